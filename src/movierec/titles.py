"""Finding a movie by what a person types: part of a title, any case, with or without accents or year.

Used by ``movierec.Recommender.similar``, the ``similar`` command and the artifact's title search,
so a title resolves the same way everywhere.
"""

from __future__ import annotations

import difflib
import re
import unicodedata

from movierec.errors import ConfigError, UnknownIdError

__all__ = ["fold_title", "match_title"]

_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_LEADING = re.compile(r"^(the|a|an|les|la|le|l'|il|el|das|der|die|los|las) ")
_ARTICLE = re.compile(r"^(.*), (the|a|an|les|la|le|l'|il|el|das|der|die|los|las)$")


def fold_title(text: str) -> str:
    """Case- and accent-insensitive title key: NFKD without combining marks, casefolded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(plain.split())


def _title_keys(title: str) -> tuple[str, str]:
    """(full key, key without the year) with a trailing article moved to the front ('matrix, the' → 'the matrix')."""
    full = fold_title(title)
    bare = _YEAR.sub("", full).strip()
    m = _ARTICLE.match(bare)
    if m:
        bare = f"{m.group(2)} {m.group(1)}"
    year = _YEAR.search(full)
    return (f"{bare} ({year.group(1)})" if year else bare), bare


def match_title(query: str, titles: list[str], *, id_hint: str = "--movie-id") -> int:
    """Index of the one title ``query`` names: exact (with or without year), then unique substring, then close spelling.

    Several equally good candidates raise a ConfigError listing them; none raises UnknownIdError.
    """
    q = fold_title(query)
    if not q:
        raise ConfigError("give part of a title")
    keys = [_title_keys(t) for t in titles]
    exact = [i for i, (full, bare) in enumerate(keys) if q in (full, bare)]
    if not exact:  # "matrix" names "Matrix, The (1999)" when no title is exactly "matrix"
        exact = [
            i for i, (full, bare) in enumerate(keys) if q in (_LEADING.sub("", full), _LEADING.sub("", bare))
        ]
    if len(exact) == 1:
        return exact[0]
    cands = exact or [i for i, (full, _) in enumerate(keys) if q in full or q in fold_title(titles[i])]
    if len(cands) == 1:
        return cands[0]
    if not cands:
        ratios = []
        for i, (_, bare) in enumerate(keys):
            m = difflib.SequenceMatcher(None, q, bare)
            if m.real_quick_ratio() >= 0.75 and m.quick_ratio() >= 0.75:
                ratios.append((m.ratio(), i))
        ratios = sorted((r for r in ratios if r[0] >= 0.75), reverse=True)
        if ratios and (len(ratios) == 1 or ratios[0][0] > ratios[1][0]):
            return ratios[0][1]  # the single closest spelling
        cands = [i for _, i in ratios]
    if not cands:
        raise UnknownIdError(f"no movie title matches {query!r}; try part of the title or {id_hint}")
    shown = "; ".join(f"{titles[i]}" for i in cands[:8])
    more = f" and {len(cands) - 8} more" if len(cands) > 8 else ""
    raise ConfigError(
        f"{query!r} matches {len(cands)} movies: {shown}{more}; be more specific or use {id_hint}"
    )
