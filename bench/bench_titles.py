"""How long a typed title takes to find its movie: ``match_title`` (``movierec similar "Toy Story"``,
``--rated``, ``Recommender.similar``, artifacts, the API) for the kinds of text people type, and for a
misspelt one the "did you mean …?" suggestions (``suggest_titles``, behind GET /movies?q=) and
``match_title``'s refusal, on ml-latest-small's 9,742 titles, ml-100k's 1,682 and a synthetic catalogue of
60,000 (ml-25m's size: ml-latest-small's titles and titles made of their words, seeded).

    PYTHONPATH=src python bench/bench_titles.py [--ml100k DIR] [--repeat 5] [--synthetic 60000]

Prints the median of ``--repeat`` runs per query and the load average before and after (the figures are
only comparable at similar load). A title list's first query pays for its index, timed apart: the keys
every query reads, and the words only a misspelling's suggestions read.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

#: misspellings and odd texts, the ones tests/test_title_suggestions.py checks the suggestions of
MISSPELT: list[str] = json.loads((ROOT / "tests" / "fixtures" / "misspelt_titles.json").read_text("utf-8"))

#: what people type for a title: exact, with the year, lower case, a part, an article at the end or the
#: front, with or without accents, a number, the words without their punctuation, a year after them
TYPED = [
    "Toy Story",
    "Toy Story (1995)",
    "toy story",
    "star wars",
    "Episode V",
    "Matrix, The",
    "the matrix",
    "amélie",
    "Amelie",
    "300",
    "1",
    "star wars episode iv",
    "Star Wars (1977)",
    "Batman 1989",
]


def _titles(ml100k: Path | None, synthetic: int) -> dict[str, list[str]]:
    from movierec import load

    catalog = load("ml-latest-small").catalog
    assert catalog is not None  # the bundled data has movies.csv
    lists = {"ml-latest-small": [str(t) for t in catalog["title"]]}
    item = (ml100k or Path("/nonexistent")) / "u.item"
    if item.exists():
        lines = item.read_text(encoding="latin-1").splitlines()
        lists["ml-100k"] = [line.split("|")[1] for line in lines if line]
    if synthetic:
        lists["synthetic"] = _synthetic(lists["ml-latest-small"], synthetic)
    return lists


def _synthetic(titles: list[str], size: int) -> list[str]:
    """``titles`` and, up to ``size``, titles of one to six of their words with a year (seeded)."""
    from movierec.titles import title_keys

    rng = random.Random(0)
    words = sorted({w for t in titles for w in title_keys(t)[1].split()})
    made = list(titles)
    while len(made) < size:
        made.append(
            f"{' '.join(rng.choices(words, k=rng.randint(1, 6))).title()} ({rng.randint(1920, 2020)})"
        )
    return made


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _first_query(titles: list[str], repeat: int) -> tuple[float, float]:
    """Seconds a list's first exact title takes (its keys built) and then its first misspelling (its words)."""
    from movierec.titles import _INDEXES, match_title, suggest_titles

    keys, words = [], []
    for _ in range(repeat):
        _INDEXES.clear()
        start = time.perf_counter()
        match_title(titles[0], titles)
        keys.append(time.perf_counter() - start)
        start = time.perf_counter()
        suggest_titles("warm up", titles)
        words.append(time.perf_counter() - start)
    return statistics.median(keys), statistics.median(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ml100k", type=Path, default=Path("/work/shared/data/ml-100k"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--synthetic", type=int, default=60_000, help="its titles (0: none)")
    args = parser.parse_args()
    from movierec.errors import ConfigError, UnknownIdError
    from movierec.titles import match_title, suggest_titles

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for name, titles in _titles(args.ml100k, args.synthetic).items():
        keys, words = _first_query(titles, args.repeat)
        print(
            f"{name} ({len(titles):,} titles): first query {1000 * keys:.0f} ms, first misspelling +{1000 * words:.0f} ms"
        )

        def found(query: str, titles: list[str] = titles) -> None:
            try:
                match_title(query, titles)
            except (ConfigError, UnknownIdError):  # several titles, or none: the refusal is timed too
                pass

        for query in TYPED:
            m = _median(partial(found, query), args.repeat)
            print(f"  {query[:26]:<26} match_title {1000 * m:7.2f} ms")
        for query in MISSPELT:
            s = _median(partial(suggest_titles, query, titles), args.repeat)
            m = _median(partial(found, query), args.repeat)
            print(
                f"  {query.strip()[:26]:<26} match_title {1000 * m:7.2f} ms   suggest_titles {1000 * s:7.1f} ms"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
