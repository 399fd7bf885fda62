"""Item-embedding maps: 2-D projections of a model's item vectors, drawn interactively and as PNG.

The reference notebook's recipe (PCA to 50 dimensions, then t-SNE) with openTSNE's FFT-accelerated
t-SNE (Linderman et al. 2019; van der Maaten & Hinton 2008) or UMAP (McInnes et al. 2018); every
step is seeded so the same vectors and seed give the same map.
"""

from __future__ import annotations

import base64
import gzip
import html
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec.errors import ConfigError
from movierec.viz.charts import PALETTE

__all__ = [
    "FAMOUS_TITLES",
    "Projection",
    "interactive_map",
    "item_frame",
    "liked_together",
    "main_genre",
    "map_figure",
    "nearest_neighbours",
    "plotly_js",
    "project",
    "static_map",
]

METHODS = ("tsne", "umap", "pca")
_FFT_FROM = 2000  # points from which t-SNE uses the FFT gradient

#: Movies a reader knows, looked up by title for the neighbour table (MovieLens spelling first).
FAMOUS_TITLES: tuple[tuple[str, ...], ...] = (
    ("Toy Story (1995)", "Toy Story"),
    ("Matrix, The (1999)", "The Matrix", "Matrix"),
    ("Pulp Fiction (1994)", "Pulp Fiction"),
    ("Forrest Gump (1994)", "Forrest Gump"),
    ("Star Wars: Episode IV - A New Hope (1977)", "Star Wars (1977)", "Star Wars"),
    ("Silence of the Lambs, The (1991)", "Silence of the Lambs"),
)

_OTHER = "#b0b0b0"
#: MovieLens "genres" that are formats, not genres: never a movie's main genre
_NOT_GENRES = frozenset({"IMAX"})


@dataclass
class Projection:
    """2-D coordinates for a subset of items: ``coords[j]`` places item index ``items[j]``."""

    coords: np.ndarray
    items: np.ndarray
    method: str
    seed: int
    seconds: float

    def __repr__(self) -> str:
        from movierec.display import projection_repr

        return projection_repr(self)

    def _repr_html_(self) -> str:
        from movierec.display import projection_html

        return projection_html(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per mapped item: ``item`` (dense index), ``x``, ``y``."""
        return pd.DataFrame({"item": self.items, "x": self.coords[:, 0], "y": self.coords[:, 1]})


def _pca(x: np.ndarray, n_components: int, seed: int) -> np.ndarray:
    """Centre and project onto the top principal components (randomised SVD when the input is wide)."""
    x = x - x.mean(axis=0, keepdims=True)
    n_components = min(n_components, x.shape[0], x.shape[1])
    if x.shape[1] > 4 * n_components and x.shape[0] > 4 * n_components:
        from sklearn.utils.extmath import randomized_svd

        u, s, _vt = randomized_svd(x, n_components, random_state=seed)
    else:
        u, s, _vt = np.linalg.svd(x, full_matrices=False)
        u, s = u[:, :n_components], s[:n_components]
    # fix the sign of each component so the output does not depend on the solver's choice
    signs = np.sign(u[np.argmax(np.abs(u), axis=0), np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return (u * s * signs).astype(np.float64)


def project(
    vectors: np.ndarray,
    method: str = "tsne",
    seed: int = 42,
    sample: int | None = 500,
    *,
    items: np.ndarray | None = None,
    n_jobs: int | None = None,
) -> Projection:
    """Project item vectors to 2-D: L2-normalise (cosine geometry), PCA to 50 dims, then t-SNE/UMAP.

    ``items`` restricts the map to those item indices (default: all rows with a non-zero vector);
    ``sample`` then draws that many of them uniformly with ``seed`` (``None``: keep all). The result
    is deterministic given ``seed``.
    """
    if method not in METHODS:
        raise ConfigError(f"projection {method!r} is unknown; choose one of {', '.join(METHODS)}")
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] == 0:
        raise ConfigError(f"item vectors must be a non-empty 2-D array, got shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1)
    pool = (
        np.flatnonzero(np.isfinite(norms) & (norms > 0))
        if items is None
        else np.asarray(items, dtype=np.int64)
    )
    if sample is not None:
        if sample <= 0:
            raise ConfigError(f"sample must be a positive number of items or 'all', got {sample}")
        if sample < len(pool):
            rng = np.random.default_rng(seed)
            pool = np.sort(rng.choice(pool, size=sample, replace=False))
    if len(pool) < 3:
        raise ConfigError(f"a map needs at least 3 items with vectors, got {len(pool)}")
    start = time.perf_counter()
    x = vectors[pool] / np.maximum(norms[pool], 1e-12)[:, None]
    x = _pca(x, 50, seed)
    if method == "pca":
        coords = x[:, :2] if x.shape[1] >= 2 else np.hstack([x, np.zeros((len(x), 1))])
    elif method == "tsne":
        coords = _tsne(x, seed, n_jobs)
    else:
        coords = _umap(x, seed)
    return Projection(
        np.asarray(coords, dtype=np.float64), pool.astype(np.int64), method, seed, time.perf_counter() - start
    )


def _tsne(x: np.ndarray, seed: int, n_jobs: int | None) -> np.ndarray:
    """openTSNE with FFT-accelerated gradients (Linderman et al. 2019) for large maps; Barnes-Hut below
    2,000 points, where FFT's fixed interpolation grid costs more than the tree."""
    try:
        from openTSNE import TSNE
        from openTSNE.affinity import MultiscaleMixture
        from openTSNE.nearest_neighbors import Annoy, Sklearn
    except ModuleNotFoundError as exc:
        raise ConfigError("the tsne projection needs openTSNE: pip install 'movierec[viz]'") from exc
    n = len(x)
    large = n >= _FFT_FROM
    # at most (n - 1) / 3, where openTSNE warns ('Perplexity value 2 is too high') on stdout: a floor of 2 did
    perplexity = float(min(30.0, (n - 1) / 3.0))
    threads = n_jobs or 1
    # The neighbour index is built here and handed over: openTSNE's own lookup imports pynndescent just
    # to see whether it is installed, and that import JIT-compiles ~45 numba functions (measured: the
    # first map of a fresh install took 132 s against 14 s for the second, at load 9; issue 16).
    # Same index, same affinities as TSNE(neighbors="annoy"/"exact") builds itself.
    index_kind = Annoy if n >= 1000 else Sklearn
    k = min(n - 1, int(3 * perplexity))
    index = index_kind(x, k, metric="euclidean", n_jobs=threads, random_state=seed)
    affinities = MultiscaleMixture(
        perplexities=perplexity, n_jobs=threads, random_state=seed, knn_index=index
    )
    tsne = TSNE(
        n_components=2,
        initialization="pca",
        negative_gradient_method="fft" if large else "bh",
        # 100 + 200 iterations: on ml-latest-small's 1,500 most-rated movies (svd and bpr vectors) the
        # KL divergence is within 1.2% of 250 + 1,000 iterations' and trustworthiness@10 within 0.001,
        # in 0.45× the time of the 200 + 350 used before (the report's four maps were half its run)
        early_exaggeration_iter=100,
        n_iter=200,
        # one thread by default: threaded neighbour search/gradients can make maps differ run to run,
        # and on 2 cores one thread was also faster (24 s vs 41 s for 9.7k items under load)
        n_jobs=threads,
        random_state=seed,
        verbose=False,
    )
    return np.asarray(tsne.fit(x, affinities=affinities))


def _umap(x: np.ndarray, seed: int) -> np.ndarray:
    try:
        import umap
    except ModuleNotFoundError as exc:
        raise ConfigError("the umap projection needs umap-learn: pip install 'movierec[viz]'") from exc
    _cache_umap_kernels()
    reducer = umap.UMAP(
        n_components=2, n_neighbors=min(15, len(x) - 1), min_dist=0.1, random_state=seed, n_jobs=1
    )
    return np.asarray(reducer.fit_transform(x))


@lru_cache(maxsize=1)
def _cache_umap_kernels() -> None:
    """Keep umap-learn's compiled numba kernels on disk, as numba's ``cache=True`` does.

    umap-learn 0.5 declares most of its kernels without ``cache=True``, so every process that draws a
    UMAP map compiled them again: ~10 CPU-s (exact neighbours, smooth_knn_dist, membership strengths,
    the layout epoch) before a 90-point map that then takes 0.1 s. Cached, a later process loads them
    in ~0.1 s; the machine code, and so the map, is the same (numba keys the cache on the kernel's
    source file and the argument types). Where no cache folder can be written (numba's own rule: next
    to the module, else the user's cache folder), the kernels compile in memory as before.
    """
    try:
        from numba.core.registry import CPUDispatcher
        from umap import distances, layouts, umap_, utils
    except ImportError:  # a umap-learn without these modules: compile as it always did
        return
    for module in (umap_, utils, layouts, distances):
        for kernel in list(vars(module).values()):
            if isinstance(kernel, CPUDispatcher) and kernel.__module__ == module.__name__:
                try:
                    kernel.enable_caching()
                except RuntimeError:  # numba: no writable cache folder for this file
                    return


# --- item metadata ---------------------------------------------------------------------------


def main_genre(genres: list[list[str]]) -> list[str]:
    """Each item's most distinctive genre: the rarest of its genres across the catalogue.

    MovieLens lists genres alphabetically, so "the first genre" would make half the catalogue
    "Action" or "Adventure"; the rarest one (Animation for Toy Story) says more.
    """
    counts: dict[str, int] = {}
    for gs in genres:
        for g in gs:
            counts[g] = counts.get(g, 0) + 1
    out = []
    for gs in genres:
        real = [g for g in gs if g and not g.startswith("(") and g not in _NOT_GENRES]
        out.append(min(real, key=lambda g: (counts[g], g)) if real else "(none)")
    return out


def item_frame(table: pd.DataFrame, counts: np.ndarray) -> pd.DataFrame:
    """Per item index: movieId, title, year, genres (text), main genre and rating count.

    ``table`` is :meth:`Dataset.item_table` (titles fall back to ids when the data has none).
    """
    genres = [list(g) if isinstance(g, (list, tuple, np.ndarray)) else [] for g in table["genres"]]
    frame = pd.DataFrame(
        {
            "movieId": table["movieId"].to_numpy(),
            "title": table["title"].astype(str).to_numpy(),
            "year": table["year"].to_numpy()
            if "year" in table
            else pd.array([None] * len(table), dtype="Int64"),
            "genres": ["|".join(g) if g else "" for g in genres],
            "genre": main_genre(genres),
            "n_ratings": np.asarray(counts, dtype=np.int64)[: len(table)],
        }
    )
    return frame


def _genre_colours(genres: pd.Series, n_colours: int = len(PALETTE)) -> dict[str, str]:
    counts = genres.value_counts()
    top = sorted((g for g in counts.index if g != "(none)"), key=lambda g: (-counts[g], g))[:n_colours]
    colours = {g: PALETTE[i] for i, g in enumerate(top)}
    return colours


def _display_genres(
    genres: pd.Series, palette_from: pd.Series | None = None
) -> tuple[pd.Series, dict[str, str]]:
    """Each point's shown genre and the genre → colour map.

    Colours come from the genre frequencies of ``palette_from`` (the whole item table), not of the
    sample on one map, so every map of a dataset gives Sci-Fi the same colour.
    """
    colours = _genre_colours(genres if palette_from is None else palette_from)
    colours = {g: c for g, c in colours.items() if (genres == g).any()}
    shown = genres.where(genres.isin(list(colours)), "other")
    colours["other"] = _OTHER
    return shown, colours


def _sizes(counts: np.ndarray, lo: float, hi: float) -> np.ndarray:
    c = np.sqrt(np.maximum(np.asarray(counts, dtype=np.float64), 0.0))
    span = c.max() - c.min() if len(c) else 0.0
    if span <= 0:
        return np.full(len(c), (lo + hi) / 2)
    return lo + (hi - lo) * (c - c.min()) / span


# --- interactive map (plotly, offline) -----------------------------------------------------


@lru_cache(maxsize=1)
def plotly_js_gzip_base64() -> str:
    """plotly.js gzipped and base64-encoded (~1.9 MB instead of 4.8 MB), for pages that unpack it in the browser.

    The PyPI package ships only the full bundle (no scatter-only partial bundle); compressed once
    and inlined, the report stays one offline file well under 3 MB. ``mtime=0`` keeps it reproducible.
    """
    return base64.b64encode(gzip.compress(plotly_js().encode("utf-8"), compresslevel=9, mtime=0)).decode(
        "ascii"
    )


def map_spec_html(fig: Any, div_id: str) -> str:
    """A map as an empty ``<div>`` and its figure as gzipped JSON, drawn by the page's own plotly loader.

    Coordinates are rounded to 4 significant places and marker sizes to 0.1 px (invisible at any
    zoom a page allows) and plotly.py's expanded template is left out (the layout sets what the map
    needs), which with gzip takes a 1,500-point map from ~180 kB to ~40 kB.
    """
    import json

    spec = json.loads(fig.to_json())
    spec["layout"].pop("template", None)
    spec["layout"].update({"paper_bgcolor": "white", "plot_bgcolor": "white", "font": {"size": 12}})
    for trace in spec["data"]:
        for axis in ("x", "y"):
            if isinstance(trace.get(axis), list):
                trace[axis] = [float(f"{v:.4g}") for v in trace[axis]]
        size = trace.get("marker", {}).get("size")
        if isinstance(size, list):
            trace["marker"]["size"] = [round(float(v), 1) for v in size]
    raw = json.dumps(spec, separators=(",", ":")).encode("utf-8")
    packed = base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")
    return (
        f'<div id="{div_id}" class="mapdiv"></div>'
        f'<script type="application/octet-stream" data-map="{div_id}">{packed}</script>'
    )


def plotly_js() -> str:
    """The plotly.js bundle as text, to inline once per page (no CDN: the report works offline)."""
    try:
        from plotly.offline import get_plotlyjs
    except ModuleNotFoundError as exc:
        raise ConfigError("interactive maps need plotly: pip install 'movierec[viz]'") from exc
    return get_plotlyjs()


def _untitled(frame: pd.DataFrame) -> bool:
    """Whether :func:`item_frame`'s data came without titles: :meth:`Dataset.item_table` names every movie
    of such data 'movieId tt0100000' (:func:`movierec.titles.id_title`), so a map shows the id as it is
    instead, as the report's similar grids and ``movierec similar`` do."""
    from movierec.titles import id_titled

    return len(frame) > 0 and id_titled(frame["title"], frame["movieId"])


def _names(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """What a map calls each of ``rows`` (a part of ``frame``): its title, or its raw movieId where the
    data has no titles (:func:`_untitled`)."""
    return rows["movieId" if _untitled(frame) else "title"].astype(str)


def _plot_frame(frame: pd.DataFrame, proj: Projection) -> pd.DataFrame:
    sub = frame.iloc[proj.items].reset_index(drop=True).copy()
    sub["x"] = proj.coords[:, 0]
    sub["y"] = proj.coords[:, 1]
    return sub


def interactive_map(
    frame: pd.DataFrame,
    proj: Projection,
    *,
    title: str = "",
    div_id: str = "map",
    include_plotlyjs: bool = False,
    path: str | Path | None = None,
) -> str:
    """:func:`map_figure` as HTML: a fragment (a ``<div>`` and its script) for pages such as the report.

    ``include_plotlyjs=True`` inlines the plotly bundle so the fragment stands alone; ``path`` also
    writes a full standalone page.
    """
    fig = map_figure(frame, proj, title=title)
    config = {"displaylogo": False, "responsive": True}
    if path is not None:
        Path(path).write_text(_standalone_page(frame, proj, title, config), encoding="utf-8")
    return str(fig.to_html(full_html=False, include_plotlyjs=include_plotlyjs, div_id=div_id, config=config))


# run by plotly once the map is drawn: below 600 px the genre legend beside the map took half its width
# (and plotly's one-line title was cut off), so there it goes under the map, three entries a row
_NARROW_LEGEND_JS = """
const el = document.getElementById('{plot_id}');
if (el.clientWidth < 600) {
  Plotly.relayout(el, {'legend.orientation': 'h', 'legend.x': 0, 'legend.xanchor': 'left',
    'legend.y': -0.02, 'legend.yanchor': 'top', 'legend.title.text': '',
    'legend.entrywidth': 0.32, 'legend.entrywidthmode': 'fraction', 'margin.l': 4, 'margin.r': 4});
}
"""


def _standalone_page(frame: pd.DataFrame, proj: Projection, title: str, config: dict[str, Any]) -> str:
    """``movierec embed``'s map.html: a page with a tab title, a heading and one line that says what
    colour, size and hover show (plotly's own full page had none of them and no viewport for phones);
    the figure carries no title of its own, the heading replaces it."""
    fig = map_figure(frame, proj)
    body = fig.to_html(
        full_html=False, include_plotlyjs=True, div_id="map", config=config, post_script=_NARROW_LEGEND_JS
    )
    has_genres = frame["genre"].iloc[proj.items].nunique() > 1 if "genre" in frame else False
    what = (
        "Colour: the movie's most distinctive genre; size: number of training ratings. Hover or tap a point "
        "for its title, year, genres and rating count; click a legend entry to hide that genre."
        if has_genres
        else "Size: number of training ratings. Hover or tap a point for its title and rating count."
    )
    heading = html.escape(title or "item-embedding map")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{heading}</title>\n"
        "<style>body { margin:0; padding:12px 16px; font:15px/1.5 -apple-system, 'Segoe UI', Roboto, "
        "'DejaVu Sans', Helvetica, Arial, sans-serif; color:#1f2430; } h1 { font-size:20px; margin:0 0 4px; } "
        "p { color:#667085; margin:0 0 8px; }</style>\n</head>\n<body>\n"
        f"<h1>{heading}</h1>\n<p>{what} Nearby points are movies the model treats as alike (the projection "
        "keeps neighbourhoods, not distances); the axes have no units.</p>\n"
        f"{body}\n</body>\n</html>\n"
    )


def map_figure(frame: pd.DataFrame, proj: Projection, *, title: str = "") -> Any:
    """An interactive scatter as a plotly ``Figure`` (one trace per main genre, size ~ √ratings, hover details).

    ``frame`` is :func:`item_frame`'s table (row ``i`` = item index ``i``); a notebook shows the
    Figure inline, ``fig.write_html(path)`` exports it.
    """
    try:
        import plotly.graph_objects as go
    except ModuleNotFoundError as exc:
        raise ConfigError("interactive maps need plotly: pip install 'movierec[viz]'") from exc
    sub = _plot_frame(frame, proj)
    shown, colours = _display_genres(sub["genre"], frame["genre"])
    sizes = _sizes(sub["n_ratings"].to_numpy(), 4.0, 22.0)
    years = ["" if pd.isna(y) else str(int(y)) for y in sub["year"]]
    names = _names(frame, sub)
    # data without titles has no year or genres either: its hover is the movieId and the count
    hover = (
        "<b>%{customdata[0]}</b><br>year: %{customdata[1]}<br>genres: %{customdata[2]}"
        "<br>ratings: %{customdata[3]}<br>movieId: %{customdata[4]}<extra></extra>"
        if not _untitled(frame)
        else "<b>movieId %{customdata[0]}</b><br>ratings: %{customdata[3]}<extra></extra>"
    )
    fig = go.Figure()
    order = [g for g in colours if g != "other"] + ["other"]
    for g in order:
        mask = (shown == g).to_numpy()
        if not mask.any():
            continue
        part = sub[mask]
        custom = np.column_stack(
            [
                names[mask].map(html.escape).to_numpy(dtype=object),
                np.asarray(years, dtype=object)[mask],
                part["genres"].str.replace("|", ", ", regex=False).map(html.escape).to_numpy(dtype=object),
                part["n_ratings"].to_numpy(),
                part["movieId"].astype(str).to_numpy(dtype=object),
            ]
        )
        fig.add_trace(
            go.Scatter(
                x=part["x"].to_numpy(),
                y=part["y"].to_numpy(),
                mode="markers",
                name=g,
                marker={
                    "size": sizes[mask],
                    "color": colours[g],
                    "opacity": 0.75,
                    "line": {"width": 0.4, "color": "white"},
                },
                customdata=custom,
                hovertemplate=hover,
            )
        )
    fig.update_layout(
        title={"text": title, "x": 0.01} if title else None,
        template="plotly_white",
        height=620,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        legend={"title": {"text": "main genre"}, "itemsizing": "constant"},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        hoverlabel={"bgcolor": "white"},
    )
    return fig


# --- static map (matplotlib) with non-overlapping labels -----------------------------------


def _overlaps(
    box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]], pad: float = 2.0
) -> bool:
    x0, y0, x1, y1 = box
    return any(x0 - pad < b[2] and x1 + pad > b[0] and y0 - pad < b[3] and y1 + pad > b[1] for b in boxes)


_LABEL_STYLE: dict[str, Any] = {
    "fontsize": 7.5,
    "color": "#222222",
    "bbox": {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
    "zorder": 5,
}


def _place_labels(ax: Any, xs: np.ndarray, ys: np.ndarray, labels: list[str]) -> int:
    """Greedy label placement: for each label (most important first) try spots on growing rings around
    its point and keep the first one whose box overlaps no placed label, covers none of the other
    labelled points and stays inside the axes. Boxes are computed in display pixels from the text's
    measured size, so only the final label is drawn.

    Returns how many labels were placed (a label with no free spot is dropped rather than overlapped).
    """
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ax_box = ax.get_window_extent(renderer)
    points = ax.transData.transform(np.column_stack([xs, ys]))
    scale = fig.dpi / 72.0
    pad = 2.5 * scale  # the white box around the text
    placed: list[tuple[float, float, float, float]] = []
    angles = np.deg2rad(
        [45, 135, -45, -135, 0, 180, 90, -90, 22.5, 157.5, -22.5, -157.5, 67.5, 112.5, -67.5, -112.5]
    )
    n_placed = 0
    for i, label in enumerate(labels):
        probe = ax.text(0, 0, label, **{k: v for k, v in _LABEL_STYLE.items() if k != "bbox"})
        ext = probe.get_window_extent(renderer)
        probe.remove()
        w, h = ext.width + 2 * pad, ext.height + 2 * pad
        px, py = points[i]
        others = np.delete(points, i, axis=0)
        done = False
        for radius in (4, 10, 18, 28, 40, 55, 75, 100):
            r = radius * scale
            for ang in angles:
                dx, dy = r * np.cos(ang), r * np.sin(ang)
                ha = "left" if dx > 0.3 * r else "right" if dx < -0.3 * r else "center"
                va = "bottom" if dy > 0.3 * r else "top" if dy < -0.3 * r else "center"
                ax_x = px + dx
                ax_y = py + dy
                x0 = ax_x if ha == "left" else ax_x - w if ha == "right" else ax_x - w / 2
                y0 = ax_y if va == "bottom" else ax_y - h if va == "top" else ax_y - h / 2
                box = (x0, y0, x0 + w, y0 + h)
                if box[0] < ax_box.x0 or box[2] > ax_box.x1 or box[1] < ax_box.y0 or box[3] > ax_box.y1:
                    continue
                if _overlaps(box, placed):
                    continue
                if len(others) and np.any(
                    (others[:, 0] > box[0])
                    & (others[:, 0] < box[2])
                    & (others[:, 1] > box[1])
                    & (others[:, 1] < box[3])
                ):
                    continue
                ax.annotate(
                    label,
                    (xs[i], ys[i]),
                    xytext=(
                        (dx + (pad if ha == "left" else -pad if ha == "right" else 0)) / scale,
                        (dy + (pad if va == "bottom" else -pad if va == "top" else 0)) / scale,
                    ),
                    textcoords="offset points",
                    ha=ha,
                    va=va,
                    arrowprops={"arrowstyle": "-", "color": "#555555", "lw": 0.6, "shrinkA": 0, "shrinkB": 2}
                    if radius > 10
                    else None,
                    **_LABEL_STYLE,
                )
                placed.append(box)
                n_placed += 1
                done = True
                break
            if done:
                break
    return n_placed


def static_map(
    frame: pd.DataFrame,
    proj: Projection,
    path: str | Path,
    *,
    title: str = "",
    n_labels: int = 25,
) -> Path:
    """A PNG of the map: colour = main genre, size ~ √ratings, the ``n_labels`` most-rated titles labelled."""
    from movierec.viz.charts import pyplot, save

    plt = pyplot()
    sub = _plot_frame(frame, proj)
    shown, colours = _display_genres(sub["genre"], frame["genre"])
    sizes = _sizes(sub["n_ratings"].to_numpy(), 4.0, 90.0)
    fig, ax = plt.subplots(figsize=(11, 8.5))
    for g in [*list(colours)[::-1]]:
        mask = (shown == g).to_numpy()
        if mask.any():
            ax.scatter(
                sub["x"][mask],
                sub["y"][mask],
                s=sizes[mask],
                c=colours[g],
                alpha=0.7,
                linewidths=0.3,
                edgecolors="white",
                label=g,
                zorder=2 if g != "other" else 1,
            )
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    pad_x = 0.08 * float(np.ptp(sub["x"])) if len(sub) else 1.0
    pad_y = 0.06 * float(np.ptp(sub["y"])) if len(sub) else 1.0
    ax.set_xlim(sub["x"].min() - pad_x, sub["x"].max() + pad_x)
    ax.set_ylim(sub["y"].min() - pad_y, sub["y"].max() + pad_y)
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(g) for g in colours if g in labels]
    legend = ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        title="main genre",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=8,
        markerscale=1.0,
    )
    for h in legend.legend_handles:
        if h is not None and hasattr(h, "set_sizes"):
            h.set_sizes([30])
    if title:
        ax.set_title(title, fontsize=12, loc="left")
    top = np.argsort(-sub["n_ratings"].to_numpy(), kind="stable")[:n_labels]
    if len(top):
        _place_labels(
            ax,
            sub["x"].to_numpy()[top],
            sub["y"].to_numpy()[top],
            [_short(t) for t in _names(frame, sub).iloc[top]],
        )
    return save(fig, path)


def _short(title: str, width: int = 36) -> str:
    return title if len(title) <= width else title[: width - 1] + "…"


# --- nearest neighbours ---------------------------------------------------------------------


def _find_title(frame: pd.DataFrame, names: tuple[str, ...]) -> int | None:
    titles = frame["title"].str.lower()
    for name in names:
        hit = np.flatnonzero((titles == name.lower()).to_numpy())
        if len(hit):
            return int(hit[0])
    for name in names:
        hit = np.flatnonzero(titles.str.startswith(name.lower()).to_numpy())
        if len(hit):
            # prefer the most-rated of several matches ("Toy Story 2" vs "Toy Story")
            return int(hit[np.argmax(frame["n_ratings"].to_numpy()[hit])])
    return None


def nearest_neighbours(
    vectors: np.ndarray,
    frame: pd.DataFrame,
    *,
    queries: tuple[tuple[str, ...], ...] = FAMOUS_TITLES,
    k: int = 5,
    min_ratings: int = 10,
    seen: Any = None,
) -> list[dict[str, Any]]:
    """The ``k`` nearest items (cosine similarity in the model's space) of a handful of famous movies.

    Queries are matched by title when present, else replaced by the most-rated items. Neighbours are
    drawn from items with at least ``min_ratings`` ratings (rarely-rated items keep near-random
    vectors that would fill the table with noise), or from all items when too few qualify. With
    ``seen`` (the training users × items pairs) each cosine is shrunk by co-support, as ``movierec
    similar`` and the API rank (:func:`movierec.scoring.support.shrunk_similarities`): raw cosine put
    The Fugitive and The Blair Witch Project next to Toy Story in the report's bpr table, the shrunk
    one Toy Story 2, The Empire Strikes Back and Back to the Future. A movie left with no neighbour
    (no co-rater in ``seen``) gives its row to the next most-rated one.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1)
    unit = vectors / np.maximum(norms, 1e-12)[:, None]
    counts = frame["n_ratings"].to_numpy()
    pool = np.flatnonzero((counts >= min_ratings) & (norms > 0))
    if len(pool) <= k:
        pool = np.flatnonzero(norms > 0)
    out: list[dict[str, Any]] = []
    for q in _query_order(frame, queries):  # the famous titles first, then the most-rated movies
        if len(out) >= len(queries):
            break
        if norms[q] <= 0:
            continue
        cand = pool[pool != q]
        sims = unit[cand] @ unit[q]
        if seen is not None:
            from movierec.scoring.support import shrunk_similarities

            full = np.full(len(unit), -np.inf, dtype=np.float32)
            full[cand] = sims
            sims = shrunk_similarities(full, seen, q)[cand]
            cand, sims = cand[np.isfinite(sims)], sims[np.isfinite(sims)]
        if not len(cand):  # no co-rater shares anything with it: another movie takes its row
            continue
        top = np.argsort(-sims, kind="stable")[:k]
        out.append(
            {
                **_movie(frame, q),
                "neighbours": [
                    {**_movie(frame, int(cand[j])), "similarity": round(float(sims[j]), 4)} for j in top
                ],
            }
        )
    return out


def _query_order(frame: pd.DataFrame, queries: tuple[tuple[str, ...], ...]) -> list[int]:
    """The rows a neighbour table tries, in order: the famous titles found in ``frame``, then the 200
    most-rated movies (``n_ratings``), each once."""
    famous = [_find_title(frame, names) for names in queries]
    counts = frame["n_ratings"].to_numpy()
    order = [i for i in famous if i is not None] + [int(i) for i in np.argsort(-counts, kind="stable")[:200]]
    return list(dict.fromkeys(order))


def liked_together(
    train: Any,
    threshold: float,
    frame: pd.DataFrame,
    *,
    queries: tuple[tuple[str, ...], ...] = FAMOUS_TITLES,
    k: int = 5,
) -> list[dict[str, Any]]:
    """The ``k`` movies liked together with each famous movie more often than chance says: ``movierec
    similar``'s list (its default, ``by=lift``), from ``train``'s positives (ratings ≥ ``threshold``).

    Lift n·c_ij / (c_i·c_j) (Brin et al. 1997) from :func:`movierec.models.itemknn.lift_neighbours`,
    shrunk by co-support and drawn from movies above the serving floor, as
    :meth:`movierec.Recommender.similar` ranks it; the same rows whatever the models are. A model's own
    nearest neighbours (:func:`nearest_neighbours`) read oddly for a person: on the default report's
    training part of ml-latest-small, svd's space put The Incredibles, Die Hard and Fight Club beside
    Toy Story, where lift lists Toy Story 2, Groundhog Day, Willy Wonka & the Chocolate Factory,
    The Princess Bride and Ghostbusters (bench/similar_study.py read lists like these across 150 movies). The
    same queries and row order as :func:`nearest_neighbours`; ``[]`` without positives.
    """
    from movierec.models.itemknn import lift_neighbours, train_positives
    from movierec.scoring.support import default_min_support, shrunk_similarities

    positives = train_positives(train, threshold)
    table = lift_neighbours(train, threshold, positives=positives)
    if table is None:
        return []
    support = np.bincount(positives.indices, minlength=train.n_items)  # users who liked each movie
    listable = support >= default_min_support(support)
    liked = frame.assign(n_ratings=support)  # the queries: famous titles, then the most-liked movies
    out: list[dict[str, Any]] = []
    for q in _query_order(liked, queries):
        if len(out) >= len(queries):
            break
        raw = np.full(train.n_items, -np.inf, dtype=np.float32)
        row = table[q]
        raw[row.indices] = row.data
        scores = shrunk_similarities(raw, positives, q)
        scores[q] = -np.inf
        scores[~listable] = -np.inf
        top = [int(j) for j in np.argsort(-scores, kind="stable")[:k] if np.isfinite(scores[j])]
        if top:  # a movie nobody liked with another gives its row to the next one
            out.append(
                {
                    **_movie(frame, q),
                    "neighbours": [
                        {**_movie(frame, j), "similarity": round(float(scores[j]), 4)} for j in top
                    ],
                }
            )
    return out


def _movie(frame: pd.DataFrame, i: int) -> dict[str, Any]:
    """``{"movieId", "title"}`` of row ``i`` (ids as plain Python values for JSON)."""
    mid = frame["movieId"].iloc[i]
    return {"movieId": mid.item() if hasattr(mid, "item") else mid, "title": str(frame["title"].iloc[i])}
