"""Which similarity should ``movierec similar`` use when no model is named? Lists read by genre and popularity.

    PYTHONPATH=src python bench/similar_study.py [--ml100k PATH] [--out FILE]

"Similar to Toy Story" is the first list a newcomer reads. With ease's item weights (the default until
2026-12-04) ml-100k's list for Toy Story opened with Star Wars, Liar Liar and Fargo: weights that grow
with a movie's popularity put the films everyone liked on every list. This study fits each candidate on
the whole dataset (as ``similar`` does) and reads the top-10 ``Recommender.similar`` list (the same
shrunk, support-floored list the CLI and the API give) of the 150 movies with the most ratings ≥ 4:

* **genre Jaccard**: the mean Jaccard overlap of each listed movie's genres with the anchor's, a
  content check the lists never saw (collaborative signal alone makes them);
* **log10 popularity**: the mean log10 of the listed movies' ratings ≥ 4 (how much blockbusters crowd);
* **distinct movies**: how many different movies the 150 lists hold together (1,500 at most): low means
  the same few films on every list;
* three lists in full (Toy Story, Star Wars or The Matrix, The Silence of the Lambs or Pulp Fiction).

Candidates: ease (its defaults), itemknn cosine (k 100), itemknn lift (n·c_ij/(c_i·c_j) shrunk by
c_ij/(c_ij + s), Brin et al. 1997; k 50, as an artifact stores it) with s 0, 5, 10, 20, and svd (cosine
of its item vectors), each read by its own similarity (``by="model"``). No split
and no held-out data is involved: the choice is about what the lists look like to a person, read on
content the models never saw. ml-100k (``--ml100k``, default ``../shared/data/ml-100k`` or
``$MOVIEREC_ML100K``) is read when present and skipped with a message otherwise; its rows are summaries
(means and counts), never its ratings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from movierec import Recommender  # noqa: E402
from movierec.datasets import Dataset, load  # noqa: E402

#: (label, model, parameters)
CANDIDATES: list[tuple[str, str, dict[str, Any]]] = [
    ("ease", "ease", {}),
    ("itemknn cosine", "itemknn", {}),
    ("itemknn lift, shrink 0", "itemknn", {"similarity": "lift", "shrink": 0, "k": 50}),
    ("itemknn lift, shrink 5", "itemknn", {"similarity": "lift", "shrink": 5, "k": 50}),
    ("itemknn lift, shrink 10", "itemknn", {"similarity": "lift", "shrink": 10, "k": 50}),
    ("itemknn lift, shrink 20", "itemknn", {"similarity": "lift", "shrink": 20, "k": 50}),
    ("svd", "svd", {}),
]
ANCHORS = 150
EXAMPLES = ("Toy Story (1995)", "Star Wars (1977)", "Matrix, The (1999)", "Silence of the Lambs, The (1991)",
            "Pulp Fiction (1994)")  # fmt: skip


def _genres(value: object) -> frozenset[str]:
    """A movie's genres (item_table holds a list; a raw column a 'A|B' string), without the placeholders."""
    names = value if isinstance(value, list | tuple | np.ndarray) else str(value).split("|")
    return frozenset(str(g) for g in names) - {"(no genres listed)", "unknown", "nan", ""}


def read_lists(ds: Dataset, model: str, params: dict[str, Any]) -> dict[str, Any]:
    """One candidate's figures on ``ds`` (see the module docstring)."""
    inter = ds.interactions
    liked = np.bincount(inter.items[inter.ratings >= 4.0], minlength=inter.n_items)
    table = ds.item_table()
    genres = [_genres(g) for g in table["genres"]]
    titles = table["title"].astype(str).tolist()
    tic = time.perf_counter()
    rec = Recommender(ds, model, **params).fit()
    fit_seconds = time.perf_counter() - tic
    jaccard, popularity, listed, examples = [], [], set(), {}
    for anchor in np.argsort(-liked, kind="stable")[:ANCHORS]:
        raw = inter.item_map.to_raw(int(anchor))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty list says why in a warning; it counts as empty here
            rows = rec.similar(raw.item() if hasattr(raw, "item") else raw, k=10, by="model")
        idx = [int(inter.item_map.index(m)) for m in rows["movieId"]]
        g = genres[anchor]
        jaccard += [len(g & genres[j]) / max(1, len(g | genres[j])) for j in idx]
        popularity += [float(np.log10(max(liked[j], 1))) for j in idx]
        listed.update(idx)
        if titles[anchor] in EXAMPLES:
            examples[titles[anchor]] = [titles[j] for j in idx]
    return {
        "genre jaccard": round(float(np.mean(jaccard)), 4),
        "log10 popularity": round(float(np.mean(popularity)), 3),
        "distinct movies": len(listed),
        "listed": len(jaccard),  # below 1,500 where lists came back short (the support floor)
        "fit seconds": round(fit_seconds, 2),
        "examples": examples,
    }


def study(ds: Dataset) -> list[dict[str, Any]]:
    rows = []
    for label, model, params in CANDIDATES:
        row = {"candidate": label, "model": model, "params": params, **read_lists(ds, model, params)}
        print(f"{ds.name:16s} {label:26s} genre Jaccard {row['genre jaccard']:.3f} · log10 popularity "
              f"{row['log10 popularity']:.2f} · {row['distinct movies']:4d} distinct", flush=True)  # fmt: skip
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--ml100k", default=os.environ.get("MOVIEREC_ML100K", str(ROOT.parent / "shared/data/ml-100k"))
    )
    ap.add_argument("--out", default=str(ROOT / "bench/results/similar_study.json"))
    args = ap.parse_args()
    tic, load_before = time.perf_counter(), os.getloadavg()
    datasets = [load("ml-latest-small")]
    if Path(args.ml100k, "u.data").exists():
        datasets.append(load(args.ml100k))
    else:
        print(f"ml-100k not found at {args.ml100k}: its rows are skipped (set MOVIEREC_ML100K)", flush=True)
    result = {
        "command": "PYTHONPATH=src python bench/similar_study.py",
        "anchors": f"the {ANCHORS} movies with the most ratings ≥ 4; top-10 lists",
        "datasets": {ds.name: {"sha256": ds.sha256, "rows": study(ds)} for ds in datasets},
        "seconds": round(time.perf_counter() - tic, 1),
        "loadavg": [round(x, 2) for x in (*load_before, *os.getloadavg())],
    }
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
