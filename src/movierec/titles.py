"""Finding a movie by what a person types: part of a title, any case, with or without accents or year.

One matcher for ``movierec.Recommender.similar``, the ``similar`` command, the artifact and the API.

Titles are compared case- and accent-insensitively with a trailing article moved back to the front
('Matrix, The (1999)' → 'the matrix (1999)'). A query resolves to one movie when it is an exact
title (with or without the year), a unique substring of the title without its year (a number: a whole
number in it), the one title holding it as whole words where several hold it ('Episode V' is in
'Episode VI' too, but as words only in 'Episode V - The Empire Strikes Back'), where no title holds it
as typed the one title holding its words without their punctuation ('star wars episode iv') or, with a
year after them, bracketed or not, the one title of that year holding them ('Star Wars (1977)', 'Batman
1989'), or a near-certain misspelling of a whole title (similarity ≥ :data:`ACCEPT` and clearly ahead of
the next: 'toy stroy'; or two neighbouring letters swapped in one title only, its article typed or not:
'matirx'). Anything weaker is never taken silently: several titles are listed,
most-rated first with their movieIds, saying whether adding the year picks one; none asks "did you mean
…?" with the closest titles (similarity ≥ :data:`SUGGEST`), most-rated first among equals. An exact title
far less rated than one holding its words is one of several where the caller knows support ('lord of the
rings': the 1978 film, and the 2001-2003 ones with 13 times its ratings; :data:`OUTRATED`). Similarity
is difflib's ratio against the whole title and against each run of the title's words as long as the
query, so 'matrx' meets 'matrix' rather than 'Max'.
"""

from __future__ import annotations

import difflib
import functools
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from movierec.errors import ConfigError, Doors, UnknownIdError, closest

if TYPE_CHECKING:  # numpy loads when a title is looked up, not for ``movierec --help``
    import numpy as np
    import pandas as pd

__all__ = [
    "ACCEPT",
    "SUGGEST",
    "UnknownGenreError",
    "check_genres",
    "first_repeat",
    "fold_title",
    "genre_counts",
    "genre_list",
    "genre_refusal",
    "genre_spellings",
    "id_title",
    "id_titled",
    "is_id_title",
    "match_title",
    "movie_from_text",
    "movie_named",
    "no_titles",
    "outside_movierec",
    "respelled",
    "search_key",
    "search_rank",
    "shorten_title",
    "suggest_titles",
    "title_keys",
    "typed_title",
    "unknown_movie_id",
    "unrated_movie",
    "warn_if_respelled",
]

ACCEPT = 0.85
#: the least similarity a suggested title has: at 0.6, 'Nonexistent Film' suggested 'A Pigeon Sat on a
#: Branch Reflecting on Existence' (0.643, 'on existence'), 'my fake film' My Family (0.667) and '(1995)'
#: 'Airport 1975' (0.6); a misspelling people make is 0.8 or more ('Matrx' 0.909, 'Ice Strom' 0.889)
SUGGEST = 0.7
#: a suggestion trails the closest title by at most this much: 'Matrx' met the three Matrix films at 0.909
#: and then Mad Max, Mary and Max and Beyond the Mat at 0.75, titles no one meant
SUGGEST_MARGIN = 0.15


#: punctuation at either end of a run of a title's words, or of the query (:func:`_similarity`)
_EDGE_PUNCTUATION = re.compile(r"^[^\w(]+|[^\w)]+$")


class _Ids(Protocol):
    """A raw id → title index lookup (an :class:`~movierec.interactions.IdMap`)."""

    def get(self, raw: object) -> int | None: ...


class _Ambiguous(Exception):
    """Several equally good titles (indices, most-rated first when support is known): :func:`match_title`
    words the error, naming the ids of titles that read the same."""

    def __init__(self, cands: list[int]) -> None:
        super().__init__(cands)
        self.cands = cands


_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_LEADING = re.compile(r"^(the|a|an|les|la|le|l'|il|el|das|der|die|los|las) ")
_ARTICLE = re.compile(r"^(.*), (the|a|an|les|la|le|l'|il|el|das|der|die|los|las)$")
_ARTICLE_YEAR = re.compile(r"^(.*), (the|a|an|les|la|le|l'|il|el|das|der|die|los|las)(\s*\(.*)?$")


def shorten_title(title: str, width: int) -> str:
    """``title`` in at most ``width`` terminal cells: cut at a word with '…', its year kept, so a list row
    stays one line ('Dr. Strangelove or: How I Learned… (1964)'); a title that fits is returned as it is.
    An alternate title the cut would leave open goes whole ('Twelve Monkeys… (1995)', not 'Twelve Monkeys
    (a.k.a. 12… (1995)'). The one rule for every list a person reads as text: the CLI's tables
    (:func:`movierec.cli.common.list_table`) and ``print(rec.recommend(1))``
    (:func:`movierec.display.fitted_text`), which cut at the last character and lost the year before."""
    from rich.cells import cell_len, set_cell_size  # rich draws both; loaded when a title is cut

    if cell_len(title) <= width:
        return title
    year = _YEAR.search(title)
    tail = f"… {year.group().strip()}" if year and cell_len(year.group()) + 8 <= width else "…"
    head = title[: year.start()] if year and tail != "…" else title
    cut = set_cell_size(head, width - cell_len(tail)).rstrip()
    if " " in cut and not head[len(cut) :].startswith(" "):  # inside a word: back to the space before it
        cut = cut[: cut.rindex(" ")]
    if cut.count("(") > cut.count(")") and cut.rindex("(") > 3:  # an alternate title cut: drop it whole
        cut = cut[: cut.rindex("(")]
    return cut.rstrip(" ,:;(-") + tail


def fold_title(text: str) -> str:
    """Case- and accent-insensitive title key: NFKD without combining marks, casefolded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    if not decomposed.isascii():  # no combining mark is ASCII: most titles need no look at each character
        decomposed = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(decomposed.casefold().split())


def search_key(title: str) -> str:
    """Folded title with a trailing article moved back to the front, then the folded original after ``|``."""
    folded = fold_title(title)
    m = _ARTICLE_YEAR.match(folded)
    if m:
        return f"{m.group(2)} {m.group(1)}{m.group(3) or ''} | {folded}"
    return folded


def search_rank(key: str, q: str) -> int:
    """Where folded query ``q`` sits in a :func:`search_key` ``key``: 0 where the title (or its original form,
    after ``|``) starts with it, 1 where a word of it does, 2 where it is inside a word, 3 nowhere.

    A search box lists its hits by this, then by popularity: typing "heat" shows Heat, In the Heat of the
    Night and Body Heat before Mystery Science Theater 3000, more often rated but matching only inside
    "theater" (ranked by popularity alone it came fourth, above every other Heat).
    """
    at = key.find(q)
    if at < 0:
        return 3
    if at == 0 or f"| {q}" in key:
        return 0
    while at >= 0:
        if not key[at - 1].isalnum():
            return 1
        at = key.find(q, at + 1)
    return 2


def title_keys(title: str) -> tuple[str, str]:
    """(full key, key without the year) with a trailing article moved to the front ('matrix, the' → 'the matrix')."""
    return _folded_keys(fold_title(title))


def _folded_keys(full: str) -> tuple[str, str]:
    """:func:`title_keys` of a title already folded (:func:`fold_title`)."""
    year = _YEAR.search(full)  # at the end: the title before it is the title without it
    bare = (full[: year.start()] if year else full).strip()
    m = _ARTICLE.match(bare)
    if m:
        bare = f"{m.group(2)} {m.group(1)}"
    return (f"{bare} ({year.group(1)})" if year else bare), bare


def _similarity(q: str, bare: str, floor: float = 0.0) -> float:
    """Best difflib ratio of ``q`` against the bare title and any run of its words about as long as ``q``.

    Exact when the result is at least ``floor``; below it, some value below ``floor``: a comparison whose
    upper bounds (``real_quick_ratio``, ``quick_ratio``) are under ``floor`` is skipped. The definition of
    a title's similarity: :func:`suggest_titles` works out the same values from an index of the titles
    (:func:`_close_scores`); tests/test_title_suggestions.py checks it against this, title by title.
    """
    best = 0.0
    m = difflib.SequenceMatcher(None, q, bare)
    if m.real_quick_ratio() >= floor and m.quick_ratio() >= floor:
        best = m.ratio()
    words = bare.split()
    q_run = _EDGE_PUNCTUATION.sub("", q) or q
    n = max(1, len(q_run.split()))  # the words it says: '-- star warz: --' is two, as 'star warz'
    for size in {n, n + 1}:
        for start in range(0, max(1, len(words) - size + 1)):
            # a run's edge punctuation is no part of what it says: 'star wars:' is 'star wars', so
            # 'Star Warz' meets Episode IV as closely as Rogue One: A Star Wars Story (0.842 vs 0.889)
            part = _EDGE_PUNCTUATION.sub("", " ".join(words[start : start + size]))
            m = difflib.SequenceMatcher(None, q_run, part)
            bar = max(best, floor)
            if m.real_quick_ratio() >= bar and m.quick_ratio() >= bar and m.quick_ratio() > best:
                best = max(best, m.ratio())
    return best


#: a run's leading and trailing characters that :data:`_EDGE_PUNCTUATION` strips
_LEAD_PUNCTUATION = re.compile(r"^[^\w(]*")
_TRAIL_PUNCTUATION = re.compile(r"[^\w)]*$")


#: what ends a title in the text :meth:`_TitleIndex.holders` searches, and what parts a title's two texts
#: there: whitespace other than a space, which neither a folded title nor a query holds (:func:`fold_title`)
_TITLE_END, _TEXT_END = "\n", "\x1f"


#: which texts of a title :meth:`_TitleIndex.texts` reads: with the year (``True``), without, or without
#: and in :func:`plain_words` (``"plain"``)
_Texts = bool | Literal["plain"]


class _TitleIndex:
    """What :func:`match_title` and the suggestions read of one list of titles, worked out once per list
    (:func:`_title_index`): each title's keys and folded text, and the titles each key names (a dict
    lookup, where each query scanned every title). The rest is worked out when a query first needs it:
    the keys without a leading article, the titles' texts as one string to search (:meth:`holders`), and
    the words the suggestions compare (:attr:`word_counts`), so a title typed exactly costs its list no
    more than the keys."""

    def __init__(self, titles: Sequence[str]) -> None:
        self.folded = [fold_title(t) for t in titles]
        self.keys = [_folded_keys(f) for f in self.folded]
        self.named = _KeyLookup(self.keys)
        self._texts: dict[_Texts, tuple[list[tuple[str, str]], str, np.ndarray]] = {}

    @functools.cached_property
    def named_without_article(self) -> _KeyLookup:
        """:attr:`named` with a leading article dropped from the keys: 'matrix' is 'the matrix (1999)'."""
        return _KeyLookup([(_LEADING.sub("", full), _LEADING.sub("", bare)) for full, bare in self.keys])

    @functools.cached_property
    def word_counts(self) -> _WordCounts:
        """The bare titles' words with their characters counted, for the suggestions (:func:`_close_scores`)."""
        return _WordCounts(self.keys)

    def texts(self, with_year: _Texts) -> tuple[list[tuple[str, str]], str, np.ndarray]:
        """The two texts of each title a part of a title is looked for in: its full key and folded title
        (``with_year``), else both without the year (``"plain"``: those in :func:`plain_words`); then all
        of them as one string, each title's two parted by :data:`_TEXT_END` and ended by
        :data:`_TITLE_END`, and where each title starts in it."""
        import numpy as np

        if with_year not in self._texts:
            pairs = [
                (full, folded) if with_year is True else (bare, _YEAR.sub("", folded))
                for (full, bare), folded in zip(self.keys, self.folded, strict=True)
            ]
            if with_year == "plain":
                pairs = [(plain_words(a), plain_words(b)) for a, b in pairs]
            joined = [f"{a}{_TEXT_END}{b}" for a, b in pairs]
            lengths = np.array([len(t) + 1 for t in joined], dtype=np.int64)
            self._texts[with_year] = pairs, _TITLE_END.join(joined), np.cumsum(lengths) - lengths
        return self._texts[with_year]

    def holders(self, part: str, with_year: _Texts) -> list[int]:
        """The titles, in order, with ``part`` in one of their :meth:`texts`: one search of the string of
        them all, where a Python loop looked in each title (20-35 ms a query on 9,742 titles)."""
        import numpy as np

        _, text, starts = self.texts(with_year)
        # once a title: the match runs on to the title's end ('.' takes any character but _TITLE_END)
        found = [m.start() for m in re.finditer(f"{re.escape(part)}.*", text)]
        return (np.searchsorted(starts, found, side="right") - 1).tolist()

    def with_word(self, part: str, titles: list[int], with_year: _Texts) -> list[int]:
        """Those of ``titles`` with ``part`` in one of their :meth:`texts` as whole words: 'Episode V' is in
        'Episode VI' too, but not as words. Title by title, as :meth:`holders` found them: a search of all
        titles at once that starts with a look behind took 17 ms on 9,742 titles, one for the text 1 ms."""
        word = re.compile(rf"(?<!\w){re.escape(part)}(?!\w)")
        pairs = self.texts(with_year)[0]
        return [i for i in titles if any(word.search(t) for t in pairs[i])]

    @functools.cached_property
    def years(self) -> list[str | None]:
        """Each title's year (``None`` where it has none), for a year typed after a title (:func:`_typed_form`)."""
        return [m.group(1) if (m := _YEAR.search(f)) else None for f in self.folded]

    def plain_holders(self, words: str) -> list[int]:
        """The titles, in order, holding ``words`` (in :func:`plain_words`) as whole words in one of their
        texts without the year read as :func:`plain_words`: one search of them all (:meth:`holders`),
        then whole words on the titles found (:meth:`with_word`)."""
        return self.with_word(words, self.holders(words, "plain"), "plain")


class _KeyLookup:
    """The titles each of a list's keys (a title's full and bare key) is a key of, in order: one index a
    key, and a list only for the few keys several titles share, since 120,000 small lists made the garbage
    collector take longer than the rest of the lookup's build (60,000 titles)."""

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        self.first: dict[str, int] = {}
        self.shared: dict[str, list[int]] = {}
        for i, (full, bare) in enumerate(keys):
            for key in (full, bare) if bare != full else (full,):
                j = self.first.setdefault(key, i)
                if j != i:
                    self.shared.setdefault(key, [j]).append(i)

    def titles(self, key: str) -> list[int]:
        """The titles ``key`` is a key of, in order (none: ``[]``)."""
        if key in self.shared:
            return list(self.shared[key])
        return [self.first[key]] if key in self.first else []


class _WordCounts:
    """What the suggestions read of one list of titles (:attr:`_TitleIndex.word_counts`): each bare title's
    words in one row (:attr:`flat`), each distinct word once with a count of each of its characters. From
    these, difflib's ``quick_ratio`` (twice the characters in common over both lengths, an upper bound of
    ``ratio``) of a query against every bare title and every run of its words is a few numpy sums, where it
    was a ``SequenceMatcher`` apiece: per character of the query, a running count along the row, so a run's
    count is two lookups (its end's less its start's), each character's counts kept for the next query.
    Summing each run's words' counts instead made a misspelling's suggestions six times as slow on 60,000
    titles (bench/bench_titles.py's synthetic catalogue)."""

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        import numpy as np

        vocab: dict[str, int] = {}
        flat: list[int] = []
        sizes = []
        for _, bare in keys:
            words = bare.split()
            sizes.append(len(words))
            flat.extend(vocab.setdefault(w, len(vocab)) for w in words)
        self.words = [*vocab, ""]  # the last: no word, what an empty title's run starts at
        self.pad = len(vocab)
        self.flat = np.array([*flat, self.pad], dtype=np.intp)
        self.sizes = np.array(sizes, dtype=np.intp)
        self.offsets = np.cumsum(self.sizes) - self.sizes
        self.longest = max(1, int(self.sizes.max(initial=0)))
        self.bare_lengths = np.array([len(bare) for _, bare in keys], dtype=np.int64)
        self.bare_spaces = np.array([bare.count(" ") for _, bare in keys], dtype=np.int64)
        self.lengths = np.array([len(w) for w in self.words], dtype=np.int64)
        #: the words' lengths summed along :attr:`flat`, from 0: a run's is its end's less its start's
        self.running_length = np.concatenate([[0], np.cumsum(self.lengths[self.flat])])
        lead = [len(m.group()) if (m := _LEAD_PUNCTUATION.match(w)) else 0 for w in self.words]
        trail = [len(m.group()) if (m := _TRAIL_PUNCTUATION.search(w)) else 0 for w in self.words]
        self.lead, self.trail = np.array(lead, dtype=np.int64), np.array(trail, dtype=np.int64)
        codes = np.frombuffer("".join(self.words).encode("utf-32-le"), dtype=np.uint32)
        chars, col = np.unique(codes, return_inverse=True)
        row = np.repeat(np.arange(len(self.words)), self.lengths)
        counts = np.bincount(col * len(self.words) + row, minlength=len(chars) * len(self.words))
        #: characters x words: how often each character is in each word (a row per character, read whole)
        self.counts = counts.reshape(len(chars), len(self.words)).astype(np.int32)
        self.column = {chr(c): j for j, c in enumerate(chars.tolist())}
        self._running: dict[str, np.ndarray] = {}  # :meth:`running`'s, each character once
        self._runs: dict[
            tuple[int, bool], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
        ] = {}

    def runs(
        self, size: int, whole: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every title's runs of ``size`` words, as :func:`_similarity` takes them (a title shorter than
        ``size`` is one run of all its words): the title of each run, where its words start and end in
        :attr:`flat`, its spaces and the least length it can have; of the bare title itself where ``whole``
        (``size`` is then every word), else of the run without its edge punctuation (the words' and spaces'
        length less what the first and last word can lose; 0 where one of them is all punctuation). What no
        query changes, worked out once a list."""
        import numpy as np

        size = min(size, self.longest)  # longer runs are every title whole, as this one
        if (size, whole) not in self._runs:
            per_title = np.where(self.sizes >= size, self.sizes - size + 1, 1)
            title = np.repeat(np.arange(len(self.sizes)), per_title)
            start = np.arange(len(title)) - np.repeat(np.cumsum(per_title) - per_title, per_title)
            start += self.offsets[title]
            count = np.minimum(size, self.sizes[title])
            if whole:
                spaces, length = self.bare_spaces[title], self.bare_lengths[title]
            else:
                spaces = np.maximum(count - 1, 0)
                first, last = self.flat[start], self.flat[start + spaces]
                length = self.running_length[start + count] - self.running_length[start]
                length = length + spaces - self.lead[first] - self.trail[last]
                bare_edge = (self.lead[first] == self.lengths[first]) | (
                    self.trail[last] == self.lengths[last]
                )
                length = np.where(bare_edge, 0, length)  # stripping may reach past the word: no bound on it
            end = start + count  # in 32 bits, each: half the memory of 64, and faster to read
            self._runs[size, whole] = (
                title.astype(np.int32),
                start.astype(np.int32),
                end.astype(np.int32),
                spaces.astype(np.int32),
                length.astype(np.int32),
            )
        return self._runs[size, whole]

    def run_text(self, start: int, end: int) -> str:
        """The words of :attr:`flat` from ``start`` to ``end`` (a run of :meth:`runs`), joined by spaces."""
        return " ".join(self.words[w] for w in self.flat[start:end].tolist())

    def running(self, c: str) -> np.ndarray:
        """How often character ``c`` is in the words of :attr:`flat` before each point (from 0, one longer
        than :attr:`flat`), so a run's count is its end's less its start's. Kept for the next query, a
        character a list, in 16 bits: the difference of two counts is exact modulo 2**16, and no run holds
        a character 65,536 times (2 bytes a word: 0.4 MB a character at 60,000 titles)."""
        import numpy as np

        if c not in self._running:
            row = np.zeros(len(self.flat) + 1, dtype=np.uint16)
            np.cumsum(self.counts[self.column[c]][self.flat], out=row[1:], dtype=np.uint16)
            self._running[c] = row
        return self._running[c]

    def bounds(self, a: str, size: int, whole: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(titles, where the words start and end) of :meth:`runs` and an upper bound of each one's difflib
        ratio against ``a``."""
        import numpy as np

        title, start, end, spaces, length = self.runs(size, whole)
        common = np.zeros(len(title), dtype=np.int64)
        for c in set(a) - {" "}:
            if c in self.column:
                row = self.running(c)
                held = row[end] - row[start]  # wraps modulo 2**16 to the run's count
                common += np.minimum(held, a.count(c))
        if " " in a:
            common += np.minimum(spaces, a.count(" "))
        total = (length + len(a)).astype(np.float64)
        bound = np.divide(2.0 * common, total, out=np.full(len(title), np.inf), where=total > 0)
        return title, start, end, bound


_INDEXES: dict[tuple[str, ...], _TitleIndex] = {}
_INDEXES_LOCK = threading.Lock()


def _title_index(titles: Sequence[str]) -> _TitleIndex:
    """The :class:`_TitleIndex` of ``titles``, built on the first query of a list and kept for the next
    (the last four lists: a session's dataset, an artifact's catalogue, a test's few titles)."""
    # a list of str is its own key, each title as it is (a str() of each took 7 ms a query at 60,000
    # titles); only a str, or numpy's str that prints as the str it equals, equals a kept list's title
    try:
        index = _INDEXES.get(tuple(titles))
    except TypeError:  # a title that cannot be hashed: only its str() can be a key
        index = None
    if index is not None:
        return index
    key = tuple(str(t) for t in titles)
    index = _INDEXES.get(key)
    if index is None:
        index = _TitleIndex(key)
        with _INDEXES_LOCK:  # the API's threadpool may build two at once
            while len(_INDEXES) >= 4:
                _INDEXES.pop(next(iter(_INDEXES)))
            _INDEXES[key] = index
    return index


def _close_scores(q: str, index: _TitleIndex) -> dict[int, float]:
    """Title index → :func:`_similarity` of ``q`` for every title that could be suggested: at least
    :data:`SUGGEST` and within :data:`SUGGEST_MARGIN` of the closest (others may be missing or low).

    The same difflib ratios :func:`_similarity` takes the best of (``q`` against the bare title, ``q``
    without its edge punctuation against each run of ``n`` or ``n + 1`` words), each distinct string once
    and only where an upper bound of it reaches the floor, best bound first, stopping where the bound falls
    under the closest ratio found less the margin: of 9,742 titles' runs, tens to hundreds of ratios."""
    import numpy as np

    q_run = _EDGE_PUNCTUATION.sub("", q) or q
    n = max(1, len(q_run.split()))
    counts = index.word_counts
    found = [(q, True, *counts.bounds(q, counts.longest, True))]
    found += [(q_run, False, *counts.bounds(q_run, s, False)) for s in sorted({n, n + 1})]
    bounds = np.concatenate([f[5] for f in found])
    group = np.repeat(np.arange(len(found)), [len(f[5]) for f in found])
    offset = np.cumsum([len(f[5]) for f in found]) - [len(f[5]) for f in found]
    keep = np.flatnonzero(bounds >= SUGGEST)
    scores: dict[int, float] = {}
    ratios: dict[tuple[str, str], float] = {}
    top = 0.0
    for at in keep[np.argsort(-bounds[keep], kind="stable")].tolist():
        if bounds[at] < top - SUGGEST_MARGIN - 0.002:  # 0.002: rounding to 3 places cannot bring it back
            break
        a, whole, title, start, end, _ = found[group[at]]
        j = at - offset[group[at]]
        i = int(title[j])
        if whole:
            text = index.keys[i][1]
        else:
            text = _EDGE_PUNCTUATION.sub("", counts.run_text(int(start[j]), int(end[j])))
        if (a, text) not in ratios:
            ratios[a, text] = difflib.SequenceMatcher(None, a, text).ratio()
        r = ratios[a, text]
        if r >= SUGGEST:
            top = max(top, r)
            scores[i] = max(scores.get(i, 0.0), r)
    return scores


#: how many characters of titles a refusal names (:func:`titles_that_fit`)
TITLES_WIDTH = 84


def titles_that_fit(titles: Sequence[str], width: int = TITLES_WIDTH) -> int:
    """How many of ``titles``, best first, a one-line refusal names: those that fit in ``width`` characters
    joined by '; ', at least one. Eight titles made lines of 430 characters ('Star Wars Episode'), six
    rows at 80 columns; the first two or three are the likely ones."""
    n = 1
    while n < len(titles) and len("; ".join(titles[: n + 1])) <= width:
        n += 1
    return n


#: the characters a "did you mean" refusal may take: two rows of an 80-column terminal less the CLI's
#: ``movierec: error: ``, so the line still reads as one sentence (:func:`_did_you_mean_titles`)
REFUSAL_WIDTH = 143
#: the longest one suggested title runs (:func:`shorten_title` keeps its year): 'Harry Potter and the
#: Sorcerer's Stone (a.k.a. …) (2001)' alone, 95 characters, left room for no other title
SUGGESTED_CELLS = 36


def _after_shared_words(title: str, first: str) -> str:
    """``title`` with the words it starts with in common with ``first`` said as '…' when they are at least
    two and ten characters ('… Chamber of Secrets (2002)' after 'Harry Potter and the Sorcerer's Stone
    (2001)'): cut at their ends, the Harry Potter films all read 'Harry Potter and the… (200x)'."""
    words, lead = title.split(" "), first.split(" ")
    n = 0
    while n < min(len(words), len(lead)) - 1 and words[n] == lead[n]:
        n += 1
    rest = " ".join(words[n:])
    if n < 2 or len(" ".join(words[:n])) < 10 or not _YEAR.sub("", rest).strip():
        return title
    return f"… {rest}"


def _did_you_mean_titles(head: str, names: Sequence[str], said: str = "") -> str:
    """``head`` ("no movie title matches 'Star Warz'; did you mean: ") and as many of ``names`` (every
    close title, best first) as fit :data:`REFUSAL_WIDTH` with the count of the rest, which is all the
    others: it showed one Star Wars film "(or 7 more)" of 13, the 8 asked for less the one shown. Each
    title after the first loses the words it shares with the first ('Star Wars: Episode IV - A New Hope
    (1977); … V - The Empire Strikes Back (1980)') and is cut to :data:`SUGGESTED_CELLS`; the first, the
    likeliest, keeps what the second leaves it ('Lord of the Rings: The Fellowship of… (2001)'). ``said``:
    what the caller puts before the line ('--exclude: '), whose room it takes. The room shrinks until the
    line reads in two rows as the CLI wraps it at spaces (:func:`_in_two_rows`): 'similar "Star Warz"' was
    160 characters, three rows on a terminal ('… (or 11' / 'more)?')."""

    def line(room: int, cells: int = SUGGESTED_CELLS) -> str:
        shown = _fitted_titles(names, room, cells)
        more = f" (or {len(names) - len(shown)} more)" if len(shown) < len(names) else ""
        return f"{head}{'; '.join(shown)}{more}?"

    room = REFUSAL_WIDTH - len(said) - len(head) - len(f" (or {len(names)} more)?")
    cells = SUGGESTED_CELLS  # the later titles give way first: the likeliest stays whole where it can
    while cells > SUGGESTED_CELLS // 2 and not _in_two_rows(f"{said}{line(room, cells)}"):
        cells -= 1
    while room > SUGGESTED_CELLS and not _in_two_rows(f"{said}{line(room, cells)}"):
        room -= 1
    return line(room, cells)


def _fitted_titles(names: Sequence[str], room: int, cells: int = SUGGESTED_CELLS) -> list[str]:
    """The first of ``names`` (best first, a few: no more fit) that fit ``room`` characters joined by '; ',
    at least one, as :func:`_did_you_mean_titles` names them: after the first, the words shared with it
    said as '…' and each cut to ``cells``; the first keeps what the second leaves it, or where no second
    fits, the whole room ('Star Wars: Episode IV - A New Hope (1977) (or 12 more)')."""
    rest = [shorten_title(_after_shared_words(t, names[0]), cells) for t in names[1:8]]
    first = max(SUGGESTED_CELLS, room - 2 - len(rest[0]) if rest else room)
    shown = [shorten_title(names[0], first), *rest]
    n = titles_that_fit(shown, room)
    return shown[:n] if n > 1 else [shorten_title(names[0], max(SUGGESTED_CELLS, room))]


#: what the CLI prints before a refusal (:func:`movierec.cli.fail`) and the terminal width it is read at:
#: an ambiguity is worded to fit two rows of it, wrapped at spaces as the CLI wraps it (:func:`_in_two_rows`)
CLI_LEAD, TERMINAL_COLUMNS = "movierec: error: ", 80
#: how many of the most-rated matches an ambiguity looks through for titles that fit whole, and names at
#: most (:func:`_whole_titles`): 'Mask, The (1994)' is the 16th most-rated of 'The', and was the second
#: short enough to fit beside 'Matrix, The (1999)' after '--exclude: ' while examples carried ids
AMBIGUITY_LOOKS, AMBIGUITY_NAMES = 20, 3
#: an ambiguity of more titles than this names examples of them, not the few to choose from: where the
#: most-rated leaves room for no other, the shortest of the most-rated ('The' matches 2,940 titles, and
#: 'Shawshank Redemption, The (1994) [318]' was all its line named)
AMBIGUITY_MANY = 20
#: where none of the :data:`AMBIGUITY_LOOKS` most-rated fit two to a line, an ambiguity of many looks
#: this far for its examples: after '--exclude: ', 'a' (540 titles) has no two of its 20 most-rated that
#: fit (with ids, as examples had them), and named 'About a Boy (2002)' (its 29th, 44 ratings) with 'Bug's
#: Life, A (1998)'
AMBIGUITY_EXAMPLES = 30


def _in_two_rows(text: str) -> bool:
    """Whether a refusal reads in two rows of an 80-column terminal after the CLI's :data:`CLI_LEAD`: as
    one line a terminal breaks anywhere (160 characters), and as the CLI prints it there, wrapped at spaces
    (:func:`movierec.cli._fitted`), where a 160-character line can take three rows."""
    import textwrap

    line = f"{CLI_LEAD}{text}"
    width = TERMINAL_COLUMNS
    rows = textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
    return len(line) <= 2 * width and len(rows) <= 2 and all(len(r) <= width for r in rows)


def _whole_titles(
    names: Sequence[str], tags: Sequence[str], fits: Callable[[list[str]], bool], many: bool = False
) -> list[str]:
    """What an ambiguity names of ``names`` (the most-rated matches, most first), each followed by its tag
    (', movieId 260': :func:`_id_tag`), given ``fits``, whether a line naming a list of them reads in two rows: the
    first, and of the next of the :data:`AMBIGUITY_LOOKS` most-rated those that fit whole, up to
    :data:`AMBIGUITY_NAMES` in all, in that order, each after the first leaving out the words it starts
    with in common with it ('… Chamber of Secrets (2002), movieId 5816'). Fewer titles whole, not more cut short:
    'Harry Potter and… (2001) [4896]; … Chamber of Secrets (2002) [5816]' named a first title no one could
    tell. Where the titles are ``many`` (examples, not the few to choose from) and the first leaves room for
    no other, the shortest of those most-rated that fit. Only a first title too long for the line alone is
    cut, at a word, its year and id kept (:func:`shorten_title`)."""

    def named(picked: list[int]) -> list[str]:
        lead = names[picked[0]]
        rest = [f"{_after_shared_words(names[k], lead)}{tags[k]}" for k in picked[1:]]
        return [f"{lead}{tags[picked[0]]}", *rest]

    looked = range(min(len(names), AMBIGUITY_LOOKS))
    sizes = [len(n) + len(t) for n, t in zip(names, tags, strict=True)]
    picked = [0] if fits(named([0])) else []
    for k in looked[1:] if picked else ():
        if len(picked) < AMBIGUITY_NAMES and fits(named([*picked, k])):
            picked.append(k)
    for looks in (AMBIGUITY_LOOKS, AMBIGUITY_EXAMPLES) if many and len(picked) < 2 else ():
        shortest = _shortest_that_fit(range(min(len(names), looks)), named, fits, sizes)
        picked = shortest if len(shortest) > len(picked) else picked
        if len(picked) > 1:
            break
    if picked:
        return named(picked)
    width, first = len(names[0]), f"{names[0]}{tags[0]}"
    while width > SUGGESTED_CELLS // 2 and not fits([first]):
        width -= 1
        first = f"{shorten_title(names[0], width)}{tags[0]}"
    return [first]


def _shortest_that_fit(
    looked: range,
    named: Callable[[list[int]], list[str]],
    fits: Callable[[list[str]], bool],
    sizes: list[int],
) -> list[int]:
    """Of ``looked`` (indexes of the most-rated matches), the shortest (by ``sizes``) that ``fits`` lets a
    line name together, up to :data:`AMBIGUITY_NAMES`: most-rated first where that order fits, else the
    shorter first. Examples of thousands of titles, where the order is no ranking the reader chooses from,
    and the CLI's wrap at spaces decides: after '--exclude: ', 'Matrix, The (1999) [2571]; Mask, The …'
    broke before '[2571];' and took three rows, 'Mask, The (1994) [367]; Matrix, The (1999) [2571]' two."""
    shortest: list[int] = []
    for k in sorted(looked, key=lambda k: (sizes[k], k)):
        if len(shortest) == AMBIGUITY_NAMES:
            break
        for order in (sorted([*shortest, k]), [*shortest, k]):
            if fits(named(order)):
                shortest = order
                break
    return shortest


def suggest_titles(
    query: str, titles: Sequence[str], support: np.ndarray | None = None, limit: int = 5
) -> list[tuple[int, float]]:
    """``[(index, similarity), …]`` of titles at least :data:`SUGGEST` alike and within :data:`SUGGEST_MARGIN`
    of the closest, best first (most-rated first on ties)."""
    q = fold_title(query)
    return _suggestions(q, _title_index(titles), support, limit) if q else []


def _suggestions(
    q: str, index: _TitleIndex, support: np.ndarray | None, limit: int
) -> list[tuple[int, float]]:
    """:func:`suggest_titles` of a folded query ``q``, from its titles' index."""
    import numpy as np

    pop = np.zeros(len(index.keys)) if support is None else np.asarray(support, dtype=np.float64)
    scored = [(round(r, 3), float(pop[i]), i) for i, r in _close_scores(q, index).items()]
    scored.sort(key=lambda x: (-x[0], -x[1], x[2]))
    close = [(i, r) for r, _, i in scored if r >= scored[0][0] - SUGGEST_MARGIN] if scored else []
    return close[:limit]


def match_title(
    query: str,
    titles: Sequence[str],
    support: np.ndarray | None = None,
    *,
    id_hint: str = "--movie-id",
    ids: _Ids | None = None,
    said: str = "",
    id_form: str = "",
) -> int:
    """Index of the one title ``query`` names (see the module docstring).

    Several equally good candidates raise a ConfigError listing them; a weak or no match raises
    UnknownIdError with "did you mean …?". A part of a title is looked for in the title without its year
    unless the query has a "(", and a number as a whole number: '1' is neither in every title of a year
    with a 1 in it nor in 'Apollo 13'. When the query is a number and ``ids`` (raw movie id → index into
    ``titles``) knows it as a movie id, the error says so ("did you mean --movie-id 1, Toy Story (1995)?"): a person who typed an id
    where a title goes learns the flag that takes it. A text id (``SKU-000001``) is named the same way.
    ``said``: what the caller prints before the error ('--exclude: '), so that its list of titles still
    reads in two rows of 80 columns with it (:func:`_ambiguity`). ``id_form``: the caller's option with
    ``{}`` for a movieId ('--rated {}=5'), which an ambiguity's fix shows with the most-rated one's id.
    """
    q = fold_title(query)
    if not q:
        raise ConfigError("give part of a title")
    try:
        try:
            return _match(query, q, titles, support, id_hint, said)
        except _Ambiguous as amb:
            raise ConfigError(_ambiguity(query, amb.cands, titles, id_hint, ids, said, id_form)) from None
    except (ConfigError, UnknownIdError) as exc:
        i = ids.get(query.strip()) if ids is not None else None  # 318, or a text id: SKU-000001, tt0114709
        if i is None:
            raise
        raise type(exc)(f"{exc}; did you mean {id_hint} {query.strip()}, {titles[i]}?") from None


class _IdMap(_Ids, Protocol):
    """An :class:`~movierec.interactions.IdMap` as :func:`movie_from_text` reads it: lookups both ways."""

    @property
    def ids(self) -> np.ndarray: ...

    def to_raw(self, idx: int) -> Any: ...


def movie_from_text(
    text: str,
    titles: Sequence[str],
    ids: _IdMap,
    support: np.ndarray | None,
    *,
    titled: bool,
    no_titles: Callable[[str], UnknownIdError],
    unrated: Callable[[str], str | None],
    unknown: Callable[[str], str],
    id_hint: str = "the movieId",
    text_only: bool = False,
    warn: bool = True,
    said: str = "",
    id_form: str = "",
) -> int:
    """The item index a movie given as text names, by the one set of rules
    :meth:`movierec.Recommender.movie_index` and the artifact's Python methods
    (:meth:`movierec.serving.artifact.Artifact.movie_id`) both read it by, so a notebook's ``rec`` and
    ``rec.export(path)`` answer a text the same (tests/serving/test_doors_agree.py):

    - a text id the data has (``"tt0114709"``, ``"m1"``, ``" SKU-000318 "``: the spaces around it dropped, as
      around a number) is that movie, before any title;
    - data without titles (``titled`` false: every movie is 'item 318') takes a movieId in digits, and
      anything else is ``no_titles(text)``, which says where titles come from;
    - otherwise the one title :func:`match_title` finds, a near spelling warned of at the caller's line;
    - a number in text that is a movieId is that movie where several titles hold it ("1": movieId 1, not
      'Kill Bill: Vol. 1' and 25 more) or none does, and is refused naming both where it is also another
      movie's whole title ("300": movieId 300, Quiz Show, and the film 300);
    - a catalogue movie nobody rated is ``unrated(text)``'s sentence ("Niagara (1953) has no ratings in
      …"), and a number that is neither a movieId nor a title ``unknown(number)``'s line (the digits
      without the spaces around them; :func:`unknown_movie_id` words it for the artifact and the CLI).

    ``titles`` and ``support`` (ratings per movie, most-rated first among equal matches) are by item index,
    ``ids`` is the raw movieId map; the three callables word the messages in each door's own terms, and so
    do the rest: ``id_hint``, how the error of a title that matches none or several says to give a movieId
    instead (``"--movie-id"`` where a flag takes it, as ``movierec similar`` has); ``text_only``, every
    movie arrives as text (the CLI's arguments), so "300" is refused asking for either title with its year,
    not for the movieId as a number; ``warn=False`` where the output already names the movie read (the
    CLI's heading: "movies like Toy Story (1995)"); ``said``, what the caller prints before a refusal
    ('--exclude: '), the room the titles it names leave for it (:func:`match_title`); ``id_form``, the
    caller's option with ``{}`` for a movieId ('--rated {}=5'), shown in an ambiguity's fix.
    """
    if ids.ids.dtype.kind not in "iu":
        found = ids.get(text.strip())  # ' SKU-000318 ' as ' 318 ': the spaces around an id are no part of it
        if found is not None:
            return int(found)  # text ids ("m1", "tt0114709"): an id before a title
    digits = text.strip().isdigit()
    by_id = ids.get(text.strip()) if digits else None
    if not titled:  # every movie is 'item 318': no title can match
        if by_id is not None:
            return int(by_id)
        raise UnknownIdError(unknown(text.strip())) if digits else no_titles(text)
    try:
        found = match_title(text, titles, support, id_hint=id_hint, ids=ids, said=said, id_form=id_form)
    except ConfigError:  # several titles hold it: "1" is movieId 1, not 'Kill Bill: Vol. 1' and 25 more
        if by_id is None:
            raise
        return int(by_id)
    except UnknownIdError:
        if by_id is not None:
            return int(by_id)
        nobody = unrated(text)  # Niagara: in the catalogue, rated by nobody
        if nobody is not None or digits:  # Surprise's text ids: the id is unknown, not "try … the movieId"
            raise UnknownIdError(nobody or unknown(text.strip())) from None  # '999999', not ' 999999 '
        raise
    if by_id is not None and int(by_id) != found:
        number, title, by_number = text.strip(), titles[found], titles[int(by_id)]
        fix = (
            f"give the title with its year ({by_number!r} or {title!r})"
            if text_only  # a number typed is text too: only a title with its year tells the two apart
            else f"give a movieId as a number ({number}, not {text!r}) or the title with its year ({title!r})"
        )
        raise ConfigError(
            f"{text!r} is both the movieId {number} ({by_number}) and the title {title} (movieId "
            f"{ids.to_raw(found)}): {fix}"
        )
    if warn:
        warn_if_respelled(text, titles[found])
    return found


def no_titles(query: str, ids: _Ids, example: object, *, movies_hint: str, id_hint: str) -> UnknownIdError:
    """The error for a title looked up in data that has no titles (a ratings file loaded without a movies
    file: every movie is shown as 'movieId 318'): "no movie title matches 'Toy Story'; try part of the
    title" sent a person hunting for a spelling when no spelling can match. It says where titles come from
    (``movies_hint``) and how to name the movie by id instead (``id_hint``, the query's id when it is a
    known id, digits or text like ``SKU-000001``, or the name every door shows, ``movieId SKU-000001``
    (:func:`id_title`), else ``example``: the data's most-rated movie)."""
    text = query.strip()
    named = text.removeprefix("movieId ").strip()  # 'movieId tt0100003' copied from a list or the page
    raw = named if ids.get(named) is not None else example
    return UnknownIdError(f"this data has no movie titles (pass {movies_hint}); give {id_hint} {raw} instead")


def id_title(raw: object) -> str:
    """The title of a movie the data gives none (a ratings file loaded without a movies file, or a movie
    the movies file leaves out): ``movieId tt0100003``, the id column's name and ``raw`` (the movieId as
    the data spells it). The item table (``Dataset.item_table``, an artifact's ``items.parquet``) holds
    it, so every door says the same words: the CLI's headings and notes, the API's ``title`` fields, the
    page, a list's frame, ``embeddings.csv``. It was ``item tt0100003`` there while the CLI's sentences
    said ``movieId tt0100003``: two names for one movie."""
    return f"movieId {raw}"


def is_id_title(title: object, raw: object) -> bool:
    """Whether ``title`` is only movie ``raw``'s id (:func:`id_title`), or the ``item tt0100003`` that
    artifacts exported before movierec named such movies by :func:`id_title` still hold."""
    text = str(title)
    return text == f"movieId {raw}" or text == f"item {raw}"


def id_titled(titles: Iterable[object], raws: Iterable[object]) -> bool:
    """Whether every one of ``titles`` is its movie's id (:func:`is_id_title`): data without titles, whose
    title column says nothing a movieId column does not (true for no movies at all)."""
    return all(is_id_title(t, r) for t, r in zip(titles, raws, strict=True))


def movie_named(title: object, raw: object, *, titled: bool) -> str:
    """How a sentence or a heading names a movie: its ``title``, or ``movieId tt0100003`` (``raw``, the
    movieId as the data spells it, :func:`id_title`) where the data has no titles (``titled`` false: a
    ratings file loaded without a movies file; before, "only 2 people liked item tt0100003", the item
    table's old placeholder, read as a title). The CLI's headings, the notes on a similar list
    (``movierec similar``'s, the API's ``note``, the page's, ``Recommender.similar``'s warnings) and the
    CLI's 'because' cells name a movie by it, as the report's grids and maps show such a movie by its id."""
    return str(title) if titled else id_title(raw)


def unknown_movie_id(movie: object, where: str, ids: Any, *, titled: bool) -> str:
    """The one line for a movieId ``where`` ("the artifact", a dataset's name) has no ratings of, with the
    ids it has (:func:`known_users`) and what to give instead: "unknown movie id '999999' in the artifact
    (its 8 movies have ids 1 to 51662, with gaps); give a movieId or a title ('Toy Story')", in the words
    of the API's 404 and of an unknown user's line. ``titled`` false (data without titles) asks for a
    movieId only. The artifact's Python methods and the CLI (``similar 999999``, ``--rated 999999=5``, with
    or without ``--artifact``) say it, so a number that is neither a movieId nor a title reads alike in
    every door. It said "…: ml-latest-small has no ratings of it and no title matches it (…); give one of
    its movieIds or …", 189 characters that the CLI's error line wrapped onto three rows of 80 columns."""
    instead = "a movieId or a title ('Toy Story')" if titled else "a movieId"
    return f"unknown movie id {movie!r} in {where} ({known_users(ids, 'movies')}); give {instead}"


def first_repeat(movies: Iterable[int]) -> tuple[int, int] | None:
    """``(first, second)``: the positions in a person's ratings of the first movie (an item index) named a
    second time, else ``None``. Read lazily and stopped there, so a caller resolving ids as it goes meets
    an unknown id only where the list reaches it. Which of the two ratings should count is a guess:
    ``Recommender.recommend_for``, the artifact's visitor list and the API (a 422) refuse it, each in its
    own words."""
    first: dict[int, int] = {}
    for n, i in enumerate(movies):
        if i in first:
            return first[i], n
        first[i] = n
    return None


def unrated_movie(query: str, catalog: pd.DataFrame | None, rated: _Ids, dataset: str) -> str | None:
    """The sentence for a ``query`` (a title, or a number as a movieId) that names a catalogue movie nobody
    rated, else ``None``.

    Such a movie is in ``movies.csv`` but not among the titles a model learned, so the matcher would
    answer "no movie title matches 'Niagara'; did you mean …" with unrelated titles; this says what is
    true instead. ``catalog``: the whole catalogue file, rated or not (``Dataset.catalog``: ``movieId``,
    ``title``); ``rated``: raw movieId → item index of the movies with ratings.
    """
    if catalog is None or not len(catalog):
        return None
    catalog_ids = catalog["movieId"].tolist()
    catalog_titles = [str(t) for t in catalog["title"]]
    text = query.strip()
    if text.isdigit():
        hits = [i for i, raw in enumerate(catalog_ids) if str(raw) == text]
    else:
        unrated = [t for raw, t in zip(catalog_ids, catalog_titles, strict=True) if rated.get(raw) is None]
        try:  # a query that names none of the unrated titles names no unrated movie of the whole catalogue
            match_title(text, unrated)  # (tens of titles: a miss costs no second pass over thousands)
            hits = [match_title(text, catalog_titles)]
        except (ConfigError, UnknownIdError):
            return None
    for i in hits:
        if rated.get(catalog_ids[i]) is None:
            named = f"movieId {text} is {catalog_titles[i]}, which" if text.isdigit() else catalog_titles[i]
            return f"{named} has no ratings in {dataset}, so no model has learned anything about it"
    return None


#: a year typed after a title, in brackets or not: 'Batman 1989', 'Star Wars (1977)'
_TYPED_YEAR = re.compile(r"^(.*?\S)\s*(?:\((\d{4})\)|(?<=\s)(\d{4}))$")
#: what :func:`plain_words` drops (an apostrophe: 'schindlers' is 'schindler's') or reads as a space
_APOSTROPHES = re.compile(r"['’`]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def plain_words(text: str) -> str:
    """A folded text's words without their punctuation: 'star wars: episode iv - a new hope' → 'star wars
    episode iv a new hope', so a title typed without its colon or dash still reads as its words."""
    return " ".join(_PUNCTUATION.sub(" ", _APOSTROPHES.sub("", text)).split())


def _typed_form(q: str, index: _TitleIndex) -> int | None:
    """The one title a folded query ``q`` that names none as it is names as people type titles, else
    ``None``: its words without the punctuation ('star wars episode iv'), or with a year after them,
    bracketed or not, the one title of that year holding the words ('Star Wars (1977)', 'Batman 1989');
    where several hold them, the one whose title is those words. Read only where no title holds ``q``
    (:func:`_match`), so '1984', '2001: A Space Odyssey' and '300' are the titles they always were."""
    year = _TYPED_YEAR.match(q)
    forms = [(year.group(1), year.group(2) or year.group(3))] if year else []
    for words, in_year in [*forms, (q, None)]:
        plain = plain_words(words)
        if not plain:
            continue
        cands = index.plain_holders(plain)
        if in_year is not None:
            cands = [i for i in cands if index.years[i] == in_year]
        if len(cands) > 1:  # 'Heat 1995': Heat, not another 1995 film with 'heat' in its title
            cands = [i for i in cands if plain in _plain_names(index.keys[i][1])] or cands
        if len(cands) == 1:
            return cands[0]
    return None


def typed_title(query: str, titles: Sequence[str]) -> int | None:
    """The one title of ``titles`` that ``query`` names only as people type titles (:func:`_typed_form`:
    'star wars episode iv', 'Batman 1989'), else ``None``: for a search by part of a title (the API's
    ``GET /movies?q=``) that found no title holding the text as it is, as :func:`match_title` reads it."""
    q = fold_title(query)
    return _typed_form(q, _title_index(titles)) if q else None


def _plain_names(bare: str) -> tuple[str, str]:
    """A bare title key in :func:`plain_words`, with and without a leading article."""
    return plain_words(bare), plain_words(_LEADING.sub("", bare))


def _match(
    query: str, q: str, titles: Sequence[str], support: np.ndarray | None, id_hint: str, said: str = ""
) -> int:
    index = _title_index(titles)
    keys = index.keys
    # "matrix" names "Matrix, The (1999)" when no title is exactly "matrix"
    exact = index.named.titles(q) or index.named_without_article.titles(q)
    if len(exact) == 1:
        outrated = _outrated(q, exact[0], index, support)
        if outrated:  # 'lord of the rings': the 1978 film, or the 2001-2003 ones with 13 times its ratings
            raise _Ambiguous(outrated)
        return exact[0]
    with_year = "(" in q  # a part of a title is matched without the year unless the query names one
    number = q.isdigit()
    cands = exact or index.holders(q, with_year)
    if number and not exact:  # a number as a whole number: not in 'Apollo 13', 'X2'
        cands = index.with_word(q, cands, with_year)
    elif len(cands) > 1 and not number:  # 'Episode V' is in 'Episode VI' too, but as words in one title
        cands = index.with_word(q, cands, with_year) or cands
    if len(cands) == 1:
        return cands[0]
    if not cands and (typed := _typed_form(q, index)) is not None:
        return typed
    if not cands:
        near = _suggestions(q, index, support, len(titles))  # all: the count says the rest
        whole = sorted(
            ((difflib.SequenceMatcher(None, q, keys[i][1]).ratio(), i) for i, _ in near), reverse=True
        )
        sure = whole and whole[0][0] >= ACCEPT and (len(whole) == 1 or whole[0][0] - whole[1][0] >= 0.05)
        # else two neighbouring letters swapped in exactly one title, its article typed or not ('matirx')
        swaps = [] if sure else [i for i, _ in near if _swapped_in(q, keys[i][1])]
        if sure or len(swaps) == 1:
            i = whole[0][1] if sure else swaps[0]
            # a near-certain misspelling of a whole title ('toy stroy', 'matirx'), as outrated as the title
            # typed right: 'lord of the rigns' was the 1978 film, where 'lord of the rings' asks which
            outrated = _outrated(_LEADING.sub("", keys[i][1]), i, index, support)
            if outrated:
                raise _Ambiguous(outrated)
            return i
        if near:
            head = f"no movie title matches {query!r}; did you mean: "
            raise UnknownIdError(_did_you_mean_titles(head, [titles[i] for i, _ in near], said))
        raise UnknownIdError(f"no movie title matches {query!r}; try part of the title or {id_hint}")
    if support is not None:
        cands = sorted(cands, key=lambda i: -float(support[i]))
    raise _Ambiguous(cands)


def _swapped_in(q: str, bare: str) -> bool:
    """Whether the folded query ``q`` is the bare title key ``bare`` (or it without its leading article)
    with two neighbouring letters swapped: 'matirx' for 'the matrix', 'godfahter', 'alein'. difflib rates
    that typo (n - 1) / n, under :data:`ACCEPT` for a word of six letters or fewer, so 'Matirx' was refused
    while 'Toy Stroy' was read. Letters only ('2021' is no swap of 2012 (2009)), and no other typo: a letter
    left out ('matrx') leaves The Matrix and its sequels about as close, which the suggestions list."""
    return any(_swapped(q, form) for form in {bare, _LEADING.sub("", bare)})


def _swapped(a: str, b: str) -> bool:
    """Whether ``a`` is ``b`` with two neighbouring letters swapped, and nothing else changed."""
    if len(a) != len(b):
        return False
    diff = [k for k in range(len(a)) if a[k] != b[k]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and (a[diff[0]], a[diff[1]]) == (b[diff[1]], b[diff[0]])
        and a[diff[0]].isalpha()
        and a[diff[1]].isalpha()
    )


def _id_tag(movie_id: object) -> str:
    """What follows a title in an ambiguity's list: ', movieId 2021'. It was ' [2021]', which after 'Dune
    (1984)' reads as the 2021 film; the word says which number is the id."""
    return f", movieId {movie_id}"


def _ambiguity(
    query: str,
    cands: list[int],
    titles: Sequence[str],
    id_hint: str,
    ids: _Ids | None,
    said: str = "",
    id_form: str = "",
) -> str:
    """ "'star wars' matches 13 movies: Star Wars: Episode IV - A New Hope (1977), movieId 260 and 12 more;
    add the year or use --movie-id 260": the most-rated (where the caller knows support) and as many of the
    next as fit whole in two rows at 80 columns after the CLI's ``movierec: error: `` and ``said``, what the
    caller puts before it ('--exclude: ': :func:`_whole_titles`), each with its movieId where ``ids`` can
    say them (:func:`_id_tag`), and "add the year" where the query with the first one's year names it
    (:func:`_typed_form`), else "be more specific". ``id_form``: how the caller's option takes a movieId,
    ``{}`` where it goes ('--rated {}=5', '--movie-id {}'): the fix then shows it with the first one's id
    ("use --rated 2021=5"); else ``id_hint`` names it ('the movieId'). Titles that read the same (ml-100k
    has 'Ice Storm, The (1997)' twice, as movieIds 305 and 865) carry their ids alone, since no more
    specific title can pick one of them ('use --movie-id ID'). Of more than :data:`AMBIGUITY_MANY`
    matches ('The': 2,940) the line names examples, not the movies to choose from: without ids, which
    leaves room for more of them, and the fix says "be more specific" first."""
    shown = [titles[i] for i in cands[:8]]
    repeated = {t for t in shown if shown.count(t) > 1}
    raw = getattr(ids, "to_raw", None)  # an IdMap; a bare lookup cannot go back from index to id
    many = len(cands) > AMBIGUITY_MANY  # examples of them, not the few to choose from: no ids to pick by
    if id_form and raw is not None and not many:  # the option that takes an id: '--rated 2021=5'
        id_hint = id_form.format("ID" if repeated else raw(cands[0]))  # the same title twice: either id
    use = f"use {id_hint}" if id_hint.startswith("--") else f"give {id_hint}"  # a flag, or 'the movieId'
    hint = use if repeated and raw is not None else f"be more specific or {use}"
    if not repeated and _year_picks(query, cands[0], titles):  # 'the movieId': two rows hold two titles
        hint = f"add the year or {use if id_hint.startswith('--') else id_hint}"
    head = f"{query!r} matches {len(cands)} movies: "

    def line(names: list[str]) -> str:
        more = f" and {len(cands) - len(names)} more" if len(cands) > len(names) else ""
        return f"{head}{'; '.join(names)}{more}; {hint}"

    if repeated and raw is not None:  # same-titled ones all carry their ids
        shown = [f"{t}{_id_tag(raw(i))}" if t in repeated else t for t, i in zip(shown, cands, strict=False)]
    elif not repeated:  # as many as fit two rows ('Harry Potter': one title of 95 characters, 191 columns)
        looked = cands[: AMBIGUITY_EXAMPLES if many else AMBIGUITY_LOOKS]
        names = [titles[i] for i in looked]
        tags = [_id_tag(raw(i)) if raw is not None and not many else "" for i in looked]

        def fits(some: list[str]) -> bool:
            return _in_two_rows(f"{said}{line(some)}")

        shown = _whole_titles(names, tags, fits, many=many)
    return line(shown)


#: an exact title is one of several where a title holding its words has this many times its ratings, and
#: at least :data:`OUTRATED_BY` more: 'lord of the rings' is the 1978 film (15 raters in ml-latest-small)
#: and in the 2001 one's title (198), 'ghostbusters' the 2016 film (8) and in the 1984 one's (120); 'blade'
#: stays Blade (1998) (58; Blade Runner 124), 'toy story' Toy Story (215; Toy Story 2, 97)
OUTRATED, OUTRATED_BY = 4, 20


def _outrated(q: str, exact: int, index: _TitleIndex, support: np.ndarray | None) -> list[int]:
    """Where the folded query ``q`` is exactly title ``exact`` and yet a title holding its words has
    :data:`OUTRATED` times its ratings, all the titles holding them, most-rated first with ``exact`` second
    (where the line has room, it names the title typed beside the most-rated: 'rain': 'Rain Man (1988)
    [1961]; Rain (2001) [5328]'), else ``[]``: most who type 'lord of the rings' mean the 2001-2003 films,
    and answering the 1978 one said nothing of them. A number is read as it was (its digits also name a
    movieId: :func:`movie_from_text`), and without support no title is outrated. The titles holding the
    words are searched only where the most-rated of all could outrate it (6 ms at 58,000 titles)."""
    import numpy as np

    if support is None or q.isdigit() or not len(support):
        return []
    most_rated, rated = float(np.max(support)), float(support[exact])
    if most_rated < OUTRATED * rated or most_rated - rated < OUTRATED_BY:
        return []  # no title can outrate it: 'toy story' (215 ratings; the most-rated has 329)
    with_year = "(" in q
    held = index.with_word(q, index.holders(q, with_year), with_year)
    ratings = {i: float(support[i]) for i in {*held, exact}}
    top = max(ratings, key=lambda i: (ratings[i], -i))
    if ratings[top] < OUTRATED * ratings[exact] or ratings[top] - ratings[exact] < OUTRATED_BY:
        return []
    most = sorted((i for i in ratings if i != exact), key=lambda i: (-ratings[i], i))
    return [most[0], exact, *most[1:]]


def _year_picks(query: str, movie: int, titles: Sequence[str]) -> bool:
    """Whether ``query`` with the year of title ``movie`` after it ('star wars 1977') names that movie."""
    year = _YEAR.search(str(titles[movie]))
    if year is None:
        return False
    typed, index = fold_title(f"{query} {year.group(1)}"), _title_index(titles)
    # as match_title reads it where no title holds it as typed; no suggestions ('1 1995': 20 ms) are asked
    return not index.holders(typed, False) and _typed_form(typed, index) == movie


def genre_spellings(genre_lists: Iterable[Iterable[str]]) -> dict[str, str]:
    """Every genre of a catalogue, casefolded → its first spelling (``"sci-fi"`` → ``"Sci-Fi"``)."""
    names: dict[str, str] = {}
    for genres in genre_lists:
        for g in genres:
            names.setdefault(str(g).casefold(), str(g))
    return names


def genre_counts(genre_lists: Iterable[Iterable[str]]) -> dict[str, int]:
    """How many of a catalogue's movies (one genre list each) have each genre, most first (ties by name),
    blank genres skipped: what ``movierec data info`` lists for a dataset
    (:meth:`movierec.datasets.Dataset.genre_counts`) and for an artifact (``--artifact``)."""
    counts: dict[str, int] = {}
    for genres in genre_lists:
        for g in genres:
            if g:
                counts[str(g)] = counts.get(str(g), 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def genre_list(genres: str | Iterable[str] | None) -> list[str]:
    """The genres asked, as a list: a string is one genre or several comma-separated (``"Comedy"``,
    ``"Comedy,Animation"``, as the CLI's ``--genre`` and the API's ``?genres=`` take them), never its
    characters one by one; any other iterable is taken as given."""
    if genres is None:
        return []
    if isinstance(genres, str):
        return genres.split(",")
    return list(genres)


def _genre_form(text: str) -> str:
    """A genre as :func:`check_genres` compares it: casefolded, without spaces, hyphens, underscores and
    apostrophes, so 'scifi', 'sci fi' and 'Sci_Fi' are the catalogue's 'Sci-Fi', 'film noir' its
    'Film-Noir' and 'childrens' ml-100k's "Children's"; a person types a genre's sound, not its spelling."""
    return re.sub(r"[\s\-_'’]+", "", str(text).casefold())


#: words people type for a genre that no spelling leads to (:func:`_genre_form` → MovieLens's genres), for
#: the refusal's guess, before any spelling like it: 'romcom' was 'Romance' alone, 'cartoon' Action, 'anime'
#: Crime, 'family' Fantasy and 'scary' Mystery, and 'kids' and 'suspense' named none
_GENRE_MEANT: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("romcom", "romanticcomedy"), ("Romance", "Comedy")),
    **dict.fromkeys(("kids", "kid", "family"), ("Children",)),
    **dict.fromkeys(("sf", "sciencefiction"), ("Sci-Fi",)),
    "noir": ("Film-Noir",),
    **dict.fromkeys(("cartoon", "cartoons", "animated", "anime"), ("Animation",)),
    "scary": ("Horror",),
    "suspense": ("Thriller",),
    "funny": ("Comedy",),
}


def _genre_meant(genre: str, known: Sequence[str]) -> list[str]:
    """The catalogue's genres ``genre`` means by :data:`_GENRE_MEANT`, as the catalogue spells them (none:
    not such a word, or the catalogue lacks what it means)."""
    spelt = {k.casefold(): k for k in known}
    return [spelt[g.casefold()] for g in _GENRE_MEANT.get(_genre_form(genre), ()) if g.casefold() in spelt]


#: how close (difflib's ratio) a genre is to a mistyped one to be named among the closest, at most three,
#: when none is close enough to be the one meant (:func:`~movierec.errors.closest`, 0.6): 'History' names
#: Mystery and Horror; 'Superhero' (Horror, 0.40) and 'zzz' none
GENRE_NEAR = 0.45


class UnknownGenreError(ConfigError):
    """A genre the catalogue lacks (:func:`check_genres`), raised with each door's words (a :class:`Doors`
    message: Python's ``genres:`` and where Python lists them, the CLI's ``--genre:`` and the command that
    does), and the catalogue's genres, ``known``: the API, which has no endpoint that lists them, says
    where they are in its message (:meth:`in_api`) and sends them all as the 422's ``ctx.known``."""

    def __init__(self, message: str, *, genre: str = "", known: Sequence[str] = ()) -> None:
        super().__init__(message)  # the keywords have defaults: a copy or a pickle rebuilds from the message
        self.genre, self.known = genre, list(known)

    def in_api(self) -> str:
        """The API's message: :func:`genre_refusal`'s, the full list in the 422's ``ctx.known``."""
        return genre_refusal("genres", self.genre, self.known, "ctx.known")


def genre_refusal(label: str, genre: str, known: Sequence[str], where: str) -> str:
    """The one wording of an unknown genre, for every door: ``label`` (``genres`` in Python and the API,
    ``--genre`` in the CLI) and the genre, the genre it likely meant ("(did you mean 'Comedy'?)"), else
    the closest ones (difflib's ratio ≥ :data:`GENRE_NEAR`: 'History', "(closest: Mystery, Horror)"),
    else a few of them to show their form ("(e.g. Action, Adventure, …)"); then where the door lists them
    all, ``where`` ("; all 19 genres: movierec data info"). The names shown fit the line in
    :data:`REFUSAL_WIDTH`: all 19 genres of ml-latest-small made lines of 203 to 247 characters."""
    head, tail = f"{label}: unknown genre {genre!r}", f"; all {len(known)} genres: {where}"
    if not known:  # ratings without a movies file, or one without genres: nothing to filter by
        return f"{head}: these movies have no genres (a movies file's genres column gives them)"
    meant = _genre_meant(genre, known)
    if meant:  # a word for a genre ('kids'), before any spelling like it ('Crime' for 'anime')
        return f"{head} (did you mean {' or '.join(map(repr, meant))}?){tail}"
    guess = closest(genre, known)
    if guess is not None:
        return f"{head} (did you mean {guess!r}?){tail}"
    typed = str(genre).strip().casefold()
    ratio = {k: difflib.SequenceMatcher(None, typed, k.casefold()).ratio() for k in known}
    near = sorted((k for k in known if ratio[k] >= GENRE_NEAR), key=lambda k: -ratio[k])[:3]
    if near:
        return f"{head} (closest: {', '.join(near)}){tail}"
    names, room = sorted(known), REFUSAL_WIDTH - len(head) - len(tail) - len(" (e.g. , …)")
    n = 1
    while n < len(names) and len(", ".join(names[: n + 1])) <= room:
        n += 1
    if n == len(names):
        return f"{head} (known: {', '.join(names)}){tail}"
    return f"{head} (e.g. {', '.join(names[:n])}, …){tail}"


def check_genres(asked: str | Iterable[str], spellings: Mapping[str, str], listed_by: str) -> list[str]:
    """The casefolded keys of the ``asked`` genres (blank ones skipped; a string as :func:`genre_list`
    reads it; one that reads as exactly one genre once :func:`_genre_form` drops its case, spaces and
    hyphens is that genre: 'scifi' is 'Sci-Fi'), or an :class:`UnknownGenreError` for the first one the
    catalogue lacks, worded by :func:`genre_refusal` for Python and for the CLI, each naming where its door
    lists the genres: ``listed_by``, a :class:`Doors` (``Doors("art.genres", "movierec data info
    --artifact art")``), or one text for a caller that only one door reaches (the CLI's check before
    training)."""
    keys = []
    forms: dict[str, list[str]] = {}
    for spelt in spellings:
        forms.setdefault(_genre_form(spelt), []).append(spelt)
    for g in genre_list(asked):
        key = str(g).strip().casefold()
        if not key:
            continue
        same = forms.get(_genre_form(key), [])
        key = same[0] if key not in spellings and len(same) == 1 else key
        if key not in spellings:
            known = sorted(spellings.values())
            python = genre_refusal("genres", str(g), known, str(listed_by))
            cli = genre_refusal("--genre", str(g), known, getattr(listed_by, "cli", str(listed_by)))
            raise UnknownGenreError(Doors(python, cli), genre=str(g), known=known)
        keys.append(key)
    return keys


def known_users(ids: Any, what: str = "users") -> str:
    """What ids a data's users (or ``what="movies"``) have, for the line that refuses an unknown one (a typo,
    or an id from another file, shows at once): ``its 610 users have ids 1 to 610`` (``, with gaps`` where
    some are unused), or ``its 610 users have ids such as 'u_00001', 'u_00002', 'u_00003'`` for text ids."""
    if ids.dtype.kind in "iu":
        gaps = "" if int(ids.max()) - int(ids.min()) + 1 == len(ids) else ", with gaps"
        return f"its {len(ids):,} {what} have ids {int(ids.min())} to {int(ids.max())}{gaps}"
    return f"its {len(ids):,} {what} have ids such as {', '.join(repr(str(i)) for i in ids[:3])}"


def unknown_user(user: object, where: str, ids: Any, fix: str) -> str:
    """The one line that refuses a user id ``where`` has no ratings from, for every door: the ids there are
    (:func:`known_users`; a typo, or an id from another file, shows at once) and ``fix``, the door's own way
    to recommend for someone not in the data (the CLI's ``use --rated TITLE=RATING``, Python's
    ``recommend_for(…)``, the API's ``POST /recommendations``)."""
    return f"unknown user id {user!r} in {where} ({known_users(ids)}); for someone not in the data, {fix}"


def respelled(query: str, title: str) -> bool:
    """Whether ``query`` named ``title`` only as a near spelling ('toy stroy' for Toy Story (1995)), not as
    the title or a part of it (``'toy story'``, ``'matrix'``, ``'amelie'``), nor as its words typed without
    their punctuation or with its year after them ('star wars episode iv', 'Batman 1989': :func:`_typed_form`)."""
    q = fold_title(query)
    if any(q in key for key in (*title_keys(title), fold_title(title))):
        return False
    return _typed_form(q, _TitleIndex([str(title)])) is None  # not kept: the lists kept are the data's


def warn_if_respelled(query: str, title: str) -> None:
    """Warn, at the caller's line, when ``query`` named ``title`` only as a near spelling (:func:`respelled`):
    the CLI's header and the page show the movie a misspelling resolved to ("movies like Toy Story (1995)"),
    but a DataFrame from ``similar('toy stroy')`` or ``recommend_for({'Toy Strory': 5})`` (a Recommender's
    or an artifact's) said nothing of which movie it used."""
    import warnings

    if respelled(query, title):
        warnings.warn(
            f"{query!r} read as {title} (the nearest spelling); give the exact title or its movieId to be sure",
            UserWarning,
            stacklevel=outside_movierec(),
        )


def outside_movierec() -> int:
    """The ``stacklevel`` of the first frame outside this package: a warning raised deep in a call from
    ``similar``, ``recommend_for`` or ``explain`` points at the notebook's line whichever path it took."""
    import sys
    from pathlib import Path
    from types import FrameType

    package = str(Path(__file__).resolve().parent)
    frame: FrameType | None = sys._getframe(1)
    level = 1  # the function calling this one is level 1 to warnings.warn
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame, level = frame.f_back, level + 1
    return level
