"""Whether several artifacts may be served behind one page and API (``movierec serve -a A -a B``).

The router shares users out between the artifacts, while the web page, ``GET /health`` and every request
without a user follow the first one. That is sound only where every artifact learned from the same data:

- **one rating scale.** The page's stars, its "of 5" and what ``POST /feedback`` accepts come from the
  first artifact; a second one trained on a 1–10 file would be sent 0.5–5 ratings, and its users shown
  five stars. Scale, step (half stars or whole) and data without ratings must agree.
- **one set of ids.** A user keeps their id whichever artifact serves them, their feedback is stored by
  id and merged back by ``export --with-feedback``, and ``?model=`` lists compare movieIds: ``userId 1``
  of ml-latest-small is not ``userId 1`` of ml-100k, and ml-100k's movieId 2 is GoldenEye where
  ml-latest-small's is Jumanji. The manifest records the dataset's name and sha256 (``dataset``) and the
  artifact holds its movieIds and titles.

What is refused and what is let through, from what an artifact holds:

- datasets of different names are different data: refused. ``+feedback`` does not count, since
  ``export --with-feedback`` names its data ``NAME+feedback``: the same users and movies plus the ratings
  given through the server, which is what a server's A/B test serves (the model beside one retrained on
  its feedback);
- a different rating scale, step, or ratings against none: refused;
- movieIds that both hold but that name other titles, in more than a tenth of them (two files of one name
  holding different data): refused; fewer (a newer dump of one catalogue retitles a few): a note;
- fewer than half of the smaller catalogue's movieIds in the other: refused (ids of another catalogue,
  where neither has titles to tell);
- the same name with another sha256, not explained by ``+feedback`` (a file grown since the first export,
  or two files of one name that agree on all of the above): a note naming both checksums.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

from movierec.errors import ConfigError
from movierec.titles import is_id_title

__all__ = ["check_together"]

FEEDBACK = "+feedback"  # what merge_feedback appends to a dataset's name
RETITLED_SHARE = 0.1  # above this share of shared movieIds with other titles, the movies are other movies
SHARED_SHARE = 0.5  # below this share of the smaller catalogue in the other, the ids are another catalogue's


def check_together(named: Sequence[tuple[str, Any]]) -> list[str]:
    """Refuse (:class:`ConfigError`, one line naming both artifacts, what differs and how to go on) artifacts
    that did not learn from the same data; return the notes on those that may be served together.

    ``named``: ``(path as typed, loaded Artifact)`` in serving order. Every pair is compared, the first (which
    the page and ``GET /health`` describe) with each later one before the later ones with each other: a share
    of retitled movies is no equality that carries over, so two later artifacts each retitling up to a tenth
    of the first's movies, but other ones, can differ from each other in more than a tenth (and share fewer
    than half of their movieIds, or differ in rating step where the first recorded none). Compared with the
    first only, such a set served, while the two alone, or in another order, were refused."""
    if len(named) < 2:
        return []
    first_path = named[0][0]
    notes: list[str] = []
    for (a_path, a), (b_path, b) in combinations(named, 2):  # (first, 2nd), (first, 3rd), …, (2nd, 3rd), …
        notes += _pair(a_path, a, b_path, b, first_path)
    return notes


def _base(name: str) -> str:
    """The dataset a name stands for, without the ``+feedback`` that ``export --with-feedback`` adds."""
    while name.endswith(FEEDBACK):
        name = name[: -len(FEEDBACK)]
    return name


def _scale_words(art: Any, steps: bool) -> str:
    """``rates 0.5–5`` (``in steps of 0.5`` when ``steps``), or ``has no ratings`` for data without them."""
    if art.interactions_only:
        return "has no ratings (each row a view)"
    lo, hi = art.rating_scale
    step = art.rating_step
    return f"rates {lo:g}–{hi:g}" + (f" in steps of {step:g}" if steps and step is not None else "")


def _scales_differ(a: Any, b: Any) -> tuple[bool, bool]:
    """(whether the two scales differ, whether the step is part of the difference)."""
    if a.interactions_only != b.interactions_only:
        return True, False
    if a.interactions_only:
        return False, False
    steps = a.rating_step is not None and b.rating_step is not None and a.rating_step != b.rating_step
    return tuple(a.rating_scale) != tuple(b.rating_scale) or steps, steps


def _titles(art: Any) -> dict[str, str]:
    """``{movieId as text: title}``, leaving out the movies named by their id (``movieId ID``, ``item ID``
    in an older artifact: :func:`movierec.titles.is_id_title`)."""
    out = {}
    for i, raw in enumerate(art.item_map.ids):
        title = str(art.movie_row(i)["title"])
        if not is_id_title(title, raw):
            out[str(raw)] = title
    return out


def _movies(a_path: str, a: Any, b_path: str, b: Any) -> tuple[str | None, str | None]:
    """(why the two artifacts' movieIds are not one catalogue's, or a note on a few retitled movies)."""
    ids_a, ids_b = {str(x) for x in a.item_map.ids}, {str(x) for x in b.item_map.ids}
    shared = ids_a & ids_b
    smaller = min(len(ids_a), len(ids_b))
    if smaller and len(shared) < SHARED_SHARE * smaller:  # said of the smaller catalogue, in the other
        small, large = (b_path, a_path) if len(ids_b) == smaller else (a_path, b_path)
        return f"only {len(shared):,} of {small}'s {smaller:,} movieIds are in {large}", None
    titles_a, titles_b = _titles(a), _titles(b)
    both = sorted((m for m in shared if m in titles_a and m in titles_b), key=_id_order)
    other = [m for m in both if titles_a[m] != titles_b[m]]
    if not other:
        return None, None
    m = other[0]
    example = f"movieId {m} is {titles_a[m]} in {a_path} and {titles_b[m]} in {b_path}"
    count = (
        f"{len(other):,} of the {len(both):,} movieIds that {a_path} and {b_path} both hold differ in title"
    )
    if len(other) > RETITLED_SHARE * len(both):
        return f"{example} ({count})", None
    return None, f"{count} ({example}); served together, as the other {len(both) - len(other):,} agree"


def _id_order(text: str) -> tuple[int, int | str]:
    """Sort key: numeric ids by value (movieId 2 before 10), then text ids."""
    return (0, int(text)) if text.isdigit() else (1, text)


def _pair(a_path: str, a: Any, b_path: str, b: Any, first_path: str) -> list[str]:
    """The refusal of ``b`` beside ``a``, or the notes on serving them together; ``first_path`` is the
    artifact the page and POST /feedback follow (``a``, unless both are later ones)."""
    name_a, name_b = str(a.dataset_name), str(b.dataset_name)
    sha_a, sha_b = (str((art.manifest.get("dataset") or {}).get("sha256") or "") for art in (a, b))
    scales, steps = _scales_differ(a, b)
    why: list[str] = []
    retitled = None
    if scales:
        why.append(
            f"{b_path} {_scale_words(b, steps)} and {a_path} {_scale_words(a, steps).removeprefix('rates ')}, "
            f"and the page's stars and what POST /feedback accepts follow {first_path}, the first"
        )
    same_data = _base(name_a) == _base(name_b)
    if not same_data:
        why.append("a userId or movieId may name another person or movie in each")
    elif not (sha_a and sha_a == sha_b):
        movies, retitled = _movies(a_path, a, b_path, b)
        why += [movies] if movies else []
    if why:
        data = f"{name_a} and {name_b}" if name_a != name_b else name_a
        if name_a == name_b and sha_a != sha_b:
            data = f"two datasets named '{name_a}'"
        raise ConfigError(
            f"cannot serve {a_path} and {b_path} together, as they learned from different data ({data}): "
            f"{'; '.join(why)}. Serve each with its own 'movierec serve' (another --port), or export both "
            "from one dataset"
        )
    notes = [retitled] if retitled else []
    explained = name_a != name_b or name_a.endswith(FEEDBACK)  # feedback rows change the checksum
    if sha_a and sha_b and sha_a != sha_b and not explained:
        notes.insert(
            0,
            f"{a_path} and {b_path} learned from two versions of '{name_a}' (sha256 {sha_a[:12]} and "
            f"{sha_b[:12]}); served together, as their rating scale and movieIds agree",
        )
    return notes
