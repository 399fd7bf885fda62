"""A misspelt title's "did you mean …?" titles come from an index built once per title list: the same
titles, in the same order, with the same similarities as the full scan of every title they replaced
(:func:`full_scan`, the old ``suggest_titles``), a few milliseconds where it took 0.3-0.8 s a query."""

from __future__ import annotations

import difflib
import functools
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from movierec.datasets import Dataset
from movierec.errors import ConfigError, UnknownIdError
from movierec.titles import (
    _EDGE_PUNCTUATION,
    SUGGEST,
    SUGGEST_MARGIN,
    _similarity,
    fold_title,
    match_title,
    suggest_titles,
    title_keys,
)

#: misspellings and odd texts people type, which bench/bench_titles.py times too
QUERIES: list[str] = json.loads(
    (Path(__file__).parent / "fixtures" / "misspelt_titles.json").read_text("utf-8")
)


def full_scan(
    query: str, titles: Sequence[str], support: np.ndarray | None = None, limit: int = 5
) -> list[tuple[int, float]]:
    """The suggestions as worked out before the index: :func:`_similarity` against every title.

    A title whose bound below is under SUGGEST is left out without asking :func:`_similarity`, which could
    only have answered under SUGGEST too (three quarters of the bundled titles for these queries: its 41 full
    scans take 6.4 CPU seconds where they took 12.6, and 70 s of a suite run at load 9). No ratio it compares
    can exceed the bound: difflib's ``ratio()`` is at most its ``quick_ratio()``, 2·(letters in common, as
    multisets) / (the two lengths). Against the whole title that is the bound itself. Each run of words it
    compares with ``q`` less its edge punctuation (``q_run``, L letters) is a piece of the title's words
    joined by single spaces, less its ends, so it has at most the M letters in common that ``q_run`` has with
    those joined words; a run of length P then scores at most 2·min(M, P) / (L + P), which is largest,
    2M / (L + M), at P = M.
    """
    q = fold_title(query)
    if not q:
        return []
    pop = np.zeros(len(titles)) if support is None else np.asarray(support, dtype=np.float64)
    q_run = _EDGE_PUNCTUATION.sub("", q) or q
    q_letters, run_letters = Counter(q), Counter(q_run)
    scored = []
    for i, (bare, letters, joined) in enumerate(_title_letters(tuple(titles))):
        whole = 2.0 * _in_common(q_letters, letters) / (len(q) + len(bare))
        runs = _in_common(run_letters, joined)
        if max(whole, 2.0 * runs / (len(q_run) + runs)) < SUGGEST:
            continue
        r = _similarity(q, bare, SUGGEST)
        if r >= SUGGEST:
            scored.append((round(r, 3), float(pop[i]), i))
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    close = [(i, r) for r, _, i in scored if r >= scored[0][0] - SUGGEST_MARGIN] if scored else []
    return close[:limit]


@functools.lru_cache(maxsize=4)
def _title_letters(titles: tuple[str, ...]) -> list[tuple[str, Counter[str], Counter[str]]]:
    """Each title's bare key (:func:`title_keys`), its letters, and the letters of its words joined by single
    spaces, worked out once per title list rather than once per query."""
    keys = [title_keys(t)[1] for t in titles]
    return [(bare, Counter(bare), Counter(" ".join(bare.split()))) for bare in keys]


def _in_common(letters: Counter[str], other: Counter[str]) -> int:
    """How many letters two texts share, as multisets (what difflib's ``quick_ratio`` counts)."""
    return sum(min(n, other[c]) for c, n in letters.items())


def _misspelt(title: str, rng: random.Random) -> str:
    """Part of ``title`` with a letter dropped, doubled or swapped: what a person types."""
    words = fold_title(title).split()
    start = rng.randrange(len(words))
    text = list(" ".join(words[start : start + rng.randint(1, 4)]))
    at = rng.randrange(len(text))
    edit = rng.choice(["drop", "double", "swap"])
    if edit == "drop" and len(text) > 1:
        del text[at]
    elif edit == "double":
        text.insert(at, text[at])
    elif at + 1 < len(text):
        text[at], text[at + 1] = text[at + 1], text[at]
    return "".join(text)


def _check(titles: list[str], queries: Sequence[str], support: np.ndarray | None) -> None:
    for query in queries:
        every = full_scan(query, titles, support, len(titles))  # a limit takes the first of these
        assert suggest_titles(query, titles, support, len(titles)) == every, query
        assert suggest_titles(query, titles, support) == every[:5], query


@pytest.fixture(params=["bundled", "ml100k"])
def titles_and_support(request: pytest.FixtureRequest) -> tuple[list[str], np.ndarray]:
    dataset: Dataset = request.getfixturevalue(request.param)
    titles = [str(t) for t in dataset.catalog["title"]]
    support = np.random.default_rng(0).integers(0, 4, len(titles))  # few values: ties are ordered too
    return titles, support


def test_the_suggestions_are_the_full_scans_titles_in_its_order(
    titles_and_support: tuple[list[str], np.ndarray],
) -> None:
    titles, support = titles_and_support
    _check(titles, QUERIES, support)
    _check(titles, QUERIES[:4], None)
    rng = random.Random(7)  # and misspellings of parts of titles picked at random
    _check(titles, [_misspelt(rng.choice(titles), rng) for _ in range(25)], support)


def test_a_refusal_names_the_same_titles_as_before(bundled: Dataset) -> None:
    """match_title's "did you mean" line, pinned as helper-184's rework (95b77ff) shows it, the second title
    cut so that the CLI's line reads in two rows wrapped at spaces (160 characters were three)."""
    titles = [str(t) for t in bundled.catalog["title"]]
    with pytest.raises(UnknownIdError) as err:
        match_title("Star Warz", titles)
    assert str(err.value) == (
        "no movie title matches 'Star Warz'; did you mean: Star Wars: Episode IV - A New Hope (1977); "
        "… V - The Empire Strikes… (1980) (or 11 more)?"
    )
    assert suggest_titles("Star Warz", titles, limit=3) == full_scan("Star Warz", titles, limit=3)
    assert match_title("Toy Stroy", titles) == titles.index("Toy Story (1995)")  # a near-certain one


def test_small_and_odd_title_lists() -> None:
    """Titles with no words, all punctuation, a trailing article, the same title twice."""
    titles = ["", "-", "... (1999)", "Matrix, The (1999)", "Matrix, The (1999)", "Ma-trix!", "(2000)"]
    for query in ("matrx", "the matrx", "-", "...", "ma trix", "matrix the", "zz"):
        for limit in (5, len(titles)):
            assert suggest_titles(query, titles, None, limit) == full_scan(query, titles, None, limit)
    assert suggest_titles("matrx", []) == []


def test_a_title_just_within_the_margin_is_kept() -> None:
    """The search stops at the closest ratio less SUGGEST_MARGIN: a title exactly that far behind (0.85 to
    1.0) is still suggested, and the one after it (0.80) is not."""
    titles = ["Abcdefghijklmnopqrst (2000)", "Abcdefghijklmnopqxyz (2001)", "Abcdefghijklmnopxyzw (2002)"]
    assert suggest_titles("abcdefghijklmnopqrst", titles) == [(0, 1.0), (1, 0.85)]
    assert full_scan("abcdefghijklmnopqrst", titles) == [(0, 1.0), (1, 0.85)]


def test_a_misspelling_compares_few_titles(bundled: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """The full scan built a ``difflib.SequenceMatcher`` for each of the 9,742 titles and each run of their
    words (0.3-0.8 s a query calm, 2-6 s at load 15); the index bounds them all at once and compares only
    the few that can reach the list (126-234 here). Counted rather than timed, so a busy machine cannot fail
    it (bench/bench_titles.py has the times)."""
    titles = [str(t) for t in bundled.catalog["title"]]
    suggest_titles("warm", titles)  # builds the index
    built = [0]

    class Counting(difflib.SequenceMatcher):  # type: ignore[type-arg]
        def __init__(self, *args: object, **kw: object) -> None:
            built[0] += 1
            super().__init__(*args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(difflib, "SequenceMatcher", Counting)
    for query in ("Star Warz", "Pirates of the Carribean"):
        built[0] = 0
        assert suggest_titles(query, titles)
        with pytest.raises((ConfigError, UnknownIdError)):
            match_title(query, titles)
        assert 0 < built[0] < 1_000, (query, built[0])  # both calls, against ≥ 2 × 9,742 for the full scan
