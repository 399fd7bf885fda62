"""How long a misspelt title takes to answer: the "did you mean …?" suggestions (``suggest_titles``, behind
GET /movies?q=, ``movierec similar "Star Warz"``, ``--rated "Toy Stroy=5"`` and ``Recommender.similar``)
and ``match_title``'s refusal, on ml-latest-small's 9,742 titles and ml-100k's 1,682.

    PYTHONPATH=src python bench/bench_titles.py [--ml100k DIR] [--repeat 5]

Prints the median of ``--repeat`` runs per query and the load average before and after (the figures are
only comparable at similar load). A first call per title list pays for the list's index; it is timed apart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

QUERIES = [
    "Star Warz",
    "Toy Stroy",
    "Harry Poter",
    "Matrx",
    "Amelie",
    "Lord of the Rigns",
    "Pirates of the Carribean",
    "Batmn",
    "zzzz",
    "x" * 200,
]


def _titles(ml100k: Path | None) -> dict[str, list[str]]:
    from movierec import load

    catalog = load("ml-latest-small").catalog
    assert catalog is not None  # the bundled data has movies.csv
    lists = {"ml-latest-small": [str(t) for t in catalog["title"]]}
    item = (ml100k or Path("/nonexistent")) / "u.item"
    if item.exists():
        lines = item.read_text(encoding="latin-1").splitlines()
        lists["ml-100k"] = [line.split("|")[1] for line in lines if line]
    return lists


def _median(fn: object, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ml100k", type=Path, default=Path("/work/shared/data/ml-100k"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from movierec.errors import ConfigError, UnknownIdError
    from movierec.titles import match_title, suggest_titles

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, titles in _titles(args.ml100k).items():
        start = time.perf_counter()
        suggest_titles("warm up", titles)
        print(f"{name} ({len(titles):,} titles): first call {1000 * (time.perf_counter() - start):.0f} ms")

        def refused(query: str, titles: list[str] = titles) -> None:
            try:
                match_title(query, titles)
            except (ConfigError, UnknownIdError):
                pass

        for query in QUERIES:
            s = _median(lambda q=query, t=titles: suggest_titles(q, t), args.repeat)
            m = _median(lambda q=query: refused(q), args.repeat)
            print(f"  {query[:26]:<26} suggest_titles {1000 * s:7.1f} ms   match_title {1000 * m:7.1f} ms")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
