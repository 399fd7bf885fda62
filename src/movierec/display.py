"""How movierec's objects show themselves: a one-line ``repr`` and a small HTML card for Jupyter.

A notebook prints whatever a cell returns; the reprs here keep that to a line or a table a person
reads (a dataset's size, a result's headline metrics with their intervals and provenance) instead
of dumping arrays. Every object also has ``to_frame()`` for the numbers themselves. The helpers
take plain attributes, so the classes they describe keep only two one-line methods each.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "ABOUT",
    "ROWS",
    "MovieTable",
    "Recommendations",
    "artifact_html",
    "artifact_repr",
    "column_notes",
    "comparison_html",
    "comparison_repr",
    "comparison_text",
    "count_kind",
    "counted",
    "dataset_html",
    "dataset_repr",
    "fallback_score",
    "frame_html",
    "nested_tune_html",
    "projection_html",
    "projection_repr",
    "result_html",
    "result_repr",
    "rows_note",
    "score_count",
    "score_meaning",
    "similarity_meaning",
    "tune_html",
    "tune_repr",
    "when_text",
]


def lists_by_user(users: Sequence[object], frames: Sequence[pd.DataFrame]) -> Recommendations:
    """Each of ``users``' list in turn as one frame, a ``userId`` column first (ranks 1…k per user): what
    ``recommend([1, 2])`` returns, from :class:`movierec.Recommender` and from an exported artifact alike."""
    out = pd.concat(list(frames))
    ids = [user for user, frame in zip(users, frames, strict=True) for _ in range(len(frame))]
    whole = all(isinstance(u, (int, np.integer)) and not isinstance(u, bool) for u in users)
    out.insert(0, "userId", np.asarray(ids, dtype=np.int64 if whole else object))
    # pandas keeps attrs only where every frame's are equal: lists whose rows notes differ (markov's) kept no
    # score note either; the score note is each list's, a rows note one list's alone (its ranks repeat here)
    abouts = [frame.attrs.get(ABOUT) for frame in frames]
    if not out.attrs and abouts and abouts[0] and all(a == abouts[0] for a in abouts):
        out.attrs = {ABOUT: abouts[0]}
    return Recommendations(out)


class MovieTable(pd.DataFrame):
    """A table of movies (``ds.movies``): a plain pandas DataFrame whose text form fits the terminal and
    whose Jupyter table shows every title whole.

    pandas hides the middle columns of a frame wider than the display: at its default 80 columns
    ``print(ds.movies.head())`` read ``movieId ... genres``, the titles gone behind the genre lists. Here
    long text cells (genres, titles) are shortened until every column fits (:func:`fitted_text`). The values
    and every DataFrame operation are pandas' own (slices and copies stay a ``MovieTable``).
    """

    @property
    def _constructor(self) -> type[MovieTable]:
        return MovieTable

    def __repr__(self) -> str:
        from pandas.io.formats.console import get_console_size

        width = get_console_size()[0] or int(pd.get_option("display.width"))
        import textwrap

        notes = [textwrap.fill(n, width, subsequent_indent="  ") for n in self._notes()]
        return "\n".join([fitted_text(self, width), *notes])

    def _notes(self) -> list[str]:
        """Lines under the table, text and HTML: none for a plain table of movies."""
        return []

    def _repr_html_(self) -> str | None:
        """pandas' table with no cell cut: pandas cuts text at ``display.max_colwidth`` (50 characters), so
        a notebook showed "Star Wars: Episode V - The Empire Strikes Back..." without its year and dropped
        the last of ``because``'s reasons; an HTML cell wraps instead of running wide. Under it, the notes
        (:meth:`_notes`: what a list's score column means). A count column that repeats the score on every
        row is left out and named there first, as the text form names it (:func:`score_twins`).

        Text columns (titles, genres, reasons) are left-aligned, as the CLI's lists are: pandas aligns every
        cell right, so on a narrow page (a phone, the docs site's 240-pixel output) the titles of a list
        that scrolls sideways showed only their ends, each cut at a different place."""
        twins = score_twins(self)
        shown = pd.DataFrame(self.drop(columns=twins) if twins else self)
        with pd.option_context("display.max_colwidth", None):
            table = shown._repr_html_()
        if table is None:
            return None
        table = _left_aligned(str(table), shown)
        left_out = (
            [f"(not shown, in the frame: {', '.join(f'{c} (= score)' for c in twins)})"] if twins else []
        )
        said = [*left_out, *self._notes()]  # in the order the text form prints them
        notes = "".join(f'<p style="color:#666;margin:.3em 0">{html.escape(n)}</p>' for n in said)
        return table + notes


class Recommendations(MovieTable):
    """A list of movies (``recommend``, ``recommend_for``, ``similar``): a :class:`MovieTable` whose text
    and Jupyter forms say under the table what its score column means (``frame.attrs["about"]``:
    :func:`column_notes`). The values and every DataFrame operation are pandas' own (slices and copies
    stay a ``Recommendations``)."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        if isinstance(data, pd.DataFrame) and data.attrs:  # pandas' constructor drops them (a list per user)
            self.attrs = dict(data.attrs)

    @property
    def _constructor(self) -> type[Recommendations]:
        return Recommendations

    def _notes(self) -> list[str]:
        return column_notes(self) + rows_note(self)


#: a list's text columns, which read from their left (numbers and ids stay right-aligned, as pandas sets them)
_TEXT_COLUMNS = ("title", "genres", "because")
#: the text columns that keep 16em in a notebook's table: a title, and ``because``'s titles (at 375 px
#: recommend_for's reasons, 'Alien (1979); Heat (1995)', took four lines, each title parted from its year)
_ROOMY_COLUMNS = ("title", "because")


def _left_aligned(table: str, frame: pd.DataFrame) -> str:
    """pandas' HTML ``table`` of ``frame`` with its text columns' header and cells aligned left: a class
    naming their positions (the rule is the table's own, whatever else the page shows) and one CSS rule.
    Each row starts with the index's ``<th>`` cells, so column ``i`` is child ``nlevels + i + 1``. The title
    column is at least 16em wide: a browser fits a table to a narrow output by wrapping the columns that
    can wrap, so 'One Flew Over the Cuckoo's Nest (1975)' took three lines while the one-word header
    ``predicted_rating`` kept its width; the table now scrolls sideways rather than squeezing the titles.
    ``because`` (the titles a movie is recommended for) keeps 16em too (:data:`_ROOMY_COLUMNS`)."""
    spots = [frame.index.nlevels + i + 1 for i, c in enumerate(frame.columns) if c in _TEXT_COLUMNS]
    if not spots or 'class="dataframe"' not in table:
        return table
    name = "mr-left-" + "-".join(map(str, spots))
    # table.dataframe.NAME outranks the docs site's '.jupyter-wrapper table.dataframe td' (right-aligned)
    cells = ", ".join(f"table.dataframe.{name} {c}:nth-child({n})" for n in spots for c in ("td", "th"))
    style = f"<style>{cells} {{text-align: left}}</style>"
    for column in _ROOMY_COLUMNS:  # a narrow output squeezed titles to three lines beside 'predicted_rating'
        if column in frame.columns:
            at = frame.index.nlevels + list(frame.columns).index(column) + 1
            style += f"<style>table.dataframe.{name} td:nth-child({at}) {{min-width: 16em}}</style>"
    return style + table.replace('class="dataframe"', f'class="dataframe {name}"', 1)


#: ``frame.attrs`` key of a list's notes: ``{column: what its numbers mean}``
ABOUT = "about"
#: ``frame.attrs`` key of a note on some rows of one list, by rank: ``{"note": text, "rows": n}``, said under
#: the list while it is still that list of ``n`` ranks (:func:`rows_note`)
ROWS = "rows_note"
#: what a list's ranking column means: the sentences the CLI prints under the same lists
SCORE_OF_RATING_MODEL = "the predicted rating, shrunk for rarely rated movies"
SCORE_OF_RANKING_MODEL = "on the model's own scale, not a rating; only the order means something"


def score_meaning(rates: bool, counted: str | None = None, reranked: str | None = None) -> str:
    """``score``'s meaning in a model's own list: ``rates``, a rating model's (svd's 4.954 beside its
    predicted_rating 5.000), else a ranking model's (ease's 0.0536). ``counted``: the score is a count of
    each movie's training ``counted`` (:func:`score_count`: popularity's 274 for Shawshank is its ratings
    of 4+, which "only the order means something" hid). ``reranked``: the list was re-ordered by that
    re-ranker (``"calibrated:0.5"``), whose rule has no score of its own, so each row keeps the model's
    score and the column is out of order: said so (it read "only the order means something" above
    0.084, 0.130, 0.156, 0.127, which looked like a sorting bug)."""
    if counted:
        base = f"how many {counted} the movie has in the training data"
    elif rates:
        base = SCORE_OF_RATING_MODEL
    else:
        base = SCORE_OF_RANKING_MODEL if not reranked else "the model's own (not a rating)"
    return f"{base}, before {reranked} re-ordered the list" if reranked else base


#: what a movie's training count counts: every row of data without ratings, the ratings at or above the
#: threshold an implicit model learned from, or every rating (rating and sequence models)
CountKind = Literal["interactions", "likes", "ratings"]


def count_kind(liked_from: float | None, interactions_only: bool) -> CountKind:
    """What a movie's training count counts, the one rule behind every door's word for it: ``"interactions"``
    on data without ratings (every row is one, and a positive: 'ratings of 1+' read as stars nobody gave),
    ``"likes"`` where the model learned from the ratings at or above ``liked_from`` (an implicit model: ease's
    Toy Story 147 of its 215 ratings), else ``"ratings"`` (``liked_from`` None: rating and sequence models
    read every rating). The API's ``ratingsCounted`` is this value; the CLI, the export's training line and
    popularity's score note say :func:`counted`'s words."""
    if interactions_only:
        return "interactions"
    return "ratings" if liked_from is None else "likes"


def counted(liked_from: float | None, interactions_only: bool) -> str:
    """:func:`count_kind` in the words of a list's count column, title and notes: ``"ratings of 4+"`` for
    likes (the threshold as written, ``"ratings of 3.5+"``), else ``"interactions"`` or ``"ratings"``."""
    kind = count_kind(liked_from, interactions_only)
    return f"ratings of {liked_from:g}+" if kind == "likes" else kind


def score_count(
    model: str, params: Mapping[str, Any], threshold: float, interactions_only: bool
) -> str | None:
    """What a model's list score counts, in words (``"ratings of 4+"``, ``"interactions"`` on data without
    ratings), or ``None`` where it is no count: popularity with its default weighting (binary) and no
    ``window_days`` scores each movie by its training positives; weighted by rating or recency, or within a
    window, its score is a sum or a part of them, and only the order means something."""
    if model != "popularity" or params.get("weighting", "binary") != "binary":
        return None
    if params.get("window_days") is not None:
        return None
    return counted(threshold, interactions_only)  # popularity counts the positives it learned from


def fallback_score(counted: str) -> str:
    """``score``'s meaning in the popularity fallback's list: ``counted`` is the count column's name."""
    return f"the movie's {counted} (the popularity fallback's ranking, not the model's)"


def similarity_meaning(by: str, interactions_only: bool = False) -> str:
    """``similarity``'s meaning in :meth:`~movierec.Recommender.similar`'s list, ``by`` "lift" or "model"
    (lift is a ratio to chance: Toy Story 2's 2.143 is no cosine; ease's 0.0067 is a regression weight)."""
    liked, co = ("chosen", "co-interactions") if interactions_only else ("liked", "co-ratings")
    if by == "lift":
        return f"{liked} together this many times as often as chance says, shrunk for few {co}"
    return f"the model's own scale, shrunk for few {co}; only order counts"


def column_notes(frame: pd.DataFrame) -> list[str]:
    """``"score: the predicted rating, shrunk for rarely rated movies"``: a line for each column of
    ``frame.attrs["about"]`` the frame still has. A list's score is on the model's own scale (ease's
    0.0536, svd's shrunk 4.954 beside its predicted_rating 5.000), which a reader takes for a rating or a
    probability; the CLI says so under every list, and a DataFrame says it under its table."""
    about = frame.attrs.get(ABOUT) or {}
    return [f"{column}: {meaning}" for column, meaning in about.items() if column in frame.columns]


def rows_note(frame: pd.DataFrame) -> list[str]:
    """``frame.attrs["rows_note"]``'s line (markov's 'rows 2-10: in training no one rated them next after …'),
    while ``frame`` is still the whole list it was written for (ranks 1…n, in order): under a slice or a
    re-sorted copy, which keep a frame's attrs, 'rows 2-10' would name other rows or none."""
    said = frame.attrs.get(ROWS) or {}
    n = said.get("rows")
    whole = isinstance(n, int) and list(frame.index) == list(range(1, n + 1))
    return [str(said["note"])] if whole and said.get("note") else []


#: how far each text column of a list may be cut, in the order they are cut (title last: it names the movie)
_CUT_ORDER = ("genres", "because", "title")
_FLOOR = {"genres": 8, "because": 16, "title": 14}


#: columns a printed list leaves out, with a line naming them, before it cuts a title or wraps: the year is
#: in the title, the IMDb and TMDb ids are for code (``frame["imdbId"]``), the training count is the
#: column that cut svd's titles at 80 columns to 'Dr.… (1964)'; the frame keeps every one
_SPARE = ("imdbId", "tmdbId", "year", "n_ratings", "n_liked")
#: left out next, where titles are still cut without :data:`_SPARE`: a rating model's clipped prediction
#: (5.000 on most rows of a top 10) under a 16-character name cut 'One Flew Over the Cuckoo's Nest (1975)'
#: to 'One Flew Over the… (1975)' and 'Crime|Drama' to 'Crime|D…' at 80 columns; the CLI's list leaves
#: its predicted rating out first too (list_table's optional column), and score is that rating shrunk
_SPARE_NEXT = ("predicted_rating",)


def _decimals(column: object, values: pd.Series) -> int:
    """How many decimals a list's float column shows: none for counts (the popularity fallback's scores are
    how many liked each movie: 274.000 read as a model's score), else :func:`~movierec.tables.score_decimals`.
    A predicted rating keeps its decimals, whole or not (5.000, as the CLI prints it)."""
    from movierec.tables import score_decimals, shown_decimals

    return score_decimals(list(values)) if column == "predicted_rating" else shown_decimals(list(values))


def fitted_text(frame: pd.DataFrame, width: int | None = None) -> str:
    """``frame`` as text within ``width`` columns (the console's, as pandas measures it), every column
    shown; where that cuts a title or wraps the columns, without ``imdbId, tmdbId, year`` and the count
    (:data:`_SPARE`: a list's DataFrame carries them, as an artifact's does, and at 80 columns they cut
    'Terminator 2: Judgment Day (1991)' to 'Terminat… (1991)'), then, where titles are still cut, without the
    predicted rating (:data:`_SPARE_NEXT`), and a last line naming them. A count column that repeats the
    score on every row (:func:`score_twins`: popularity's ``n_liked`` 274 beside its score 274) is not shown
    at all, and named so on that line."""
    import textwrap

    from pandas.io.formats.console import get_console_size

    width = width or get_console_size()[0] or int(pd.get_option("display.width"))
    twins = score_twins(frame)
    named = [f"{c} (= score)" for c in twins]
    frame = frame.drop(columns=twins) if twins else frame
    untitled = _untitled(frame)
    if untitled:  # data without titles: 'movieId tt0114716' beside tt0114716, a year of NaN, no genres
        said = ", ".join(named + untitled)
        note = f"(not shown, in the frame: {said}; the data has no titles: movies= gives them)"
        return _fitted_text(frame.drop(columns=untitled), width) + "\n" + textwrap.fill(note, width)
    text = _fitted_text(frame, width)
    titles = frame["title"].astype(str) if "title" in frame.columns else pd.Series(dtype=str)
    spare: list[str] = []
    for more in (_SPARE, _SPARE_NEXT):  # the ids and counts first, then the predicted rating
        fits = all(t in text for t in titles.head(_rows_shown(len(frame)))) and "\\\n" not in text
        left = [c for c in more if c in frame.columns]
        if fits:
            break
        if left:
            spare += left
            text = _fitted_text(frame.drop(columns=spare), width)
    if not named + spare:
        return text
    return text + "\n" + textwrap.fill(f"(not shown, in the frame: {', '.join(named + spare)})", width)


def _rows_shown(n: int) -> int:
    """How many of a frame's first rows its text shows, at most 20: pandas shows ``display.min_rows``' half
    of a frame longer than ``display.max_rows`` (5 of ds.movies' 9,742), so a title beyond them is no sign
    that the columns are too wide."""
    if n <= int(pd.get_option("display.max_rows") or n):
        return 20
    return min(20, int(pd.get_option("display.min_rows") or pd.get_option("display.max_rows")) // 2)


def score_twins(frame: pd.DataFrame) -> list[str]:
    """The count columns (``n_liked``, ``n_ratings``) whose number is the ``score`` on every row: popularity's
    list, and a model's popularity fallback, whose score is the count (``score 274`` beside ``n_liked 274``).
    The printed and the Jupyter table leave them out, as the CLI's list shows that number once; the frame
    keeps both columns (code reads either by name, at every door). Weighted popularity's score (290.168
    beside 274) is its own."""
    if "score" not in frame.columns or len(frame) == 0:
        return []
    score = pd.to_numeric(frame["score"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = []
    for column in ("n_liked", "n_ratings"):
        if column in frame.columns:
            count = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            out += [column] if bool((count == score).all()) else []
    return out


def _untitled(frame: pd.DataFrame) -> list[str]:
    """The columns of a list that say nothing when its data has no titles: ``title`` when every title is
    only its movie's id (``movieId 318`` beside 318: :func:`movierec.titles.is_id_title`), with an
    all-missing ``year`` and all-empty ``genres``; ``[]`` for a list with any title (the CLI's lists leave
    the same column out)."""
    if len(frame) == 0 or "title" not in frame.columns or "movieId" not in frame.columns:
        return []
    from movierec.titles import id_titled

    if not id_titled(frame["title"], frame["movieId"]):
        return []
    out = ["title"]
    if "year" in frame.columns and frame["year"].isna().all():
        out.append("year")
    if "genres" in frame.columns and all(isinstance(g, (list, str)) and not g for g in frame["genres"]):
        out.append("genres")
    return out


def _fitted_text(frame: pd.DataFrame, width: int) -> str:
    """``frame`` as text within ``width`` columns.

    Scores show three significant digits of the column's largest value (the CLI's rule: EASE's
    similarities 0.0067/0.0051 keep their gaps); long text cells are cut with "…", genres first, then the
    reasons, titles last, a title at a word with its year kept as the CLI's lists cut it
    (:func:`movierec.titles.shorten_title`: 'Dr. Strangelove or: How I… (1964)', not 'Dr. Strangelove or:
    How I Learned to S…'); ids (columns named ``…Id``: text ids like ``SKU-000318``) are never cut, since a
    shortened id cannot be typed back; when even then a line is too long, the columns wrap into blocks
    (pandas' ``line_width``) rather than being hidden.
    """
    from movierec.titles import shorten_title

    rows = {"max_rows": pd.get_option("display.max_rows"), "min_rows": pd.get_option("display.min_rows")}
    more = f"\n\n[{len(frame)} rows]" if len(frame) > rows["max_rows"] else ""
    floats = {
        c: (lambda d: lambda v: f"{v:.{d}f}")(_decimals(c, frame[c].dropna()))
        for c in frame.columns
        if pd.api.types.is_float_dtype(frame[c])
    }
    text_cols = [  # ids (movieId 'SKU-000318', userId 'u_00042', imdbId) are never cut: a cut id names nothing
        c
        for c in frame.columns
        if (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])) and not str(c).endswith("Id")
    ]
    order = [c for c in text_cols if c not in _CUT_ORDER] + [c for c in _CUT_ORDER if c in text_cols]
    limits = {c: 60 if c in ("title", "because") else 40 for c in text_cols}

    def cut(column: str, value: object, n: int) -> object:  # a title as the CLI's lists cut it: year kept
        if isinstance(value, (list, tuple)):  # ds.movies' genres: a list, shown as pandas shows one
            return _listed(value, n)
        if not isinstance(value, str) or len(value) <= n:
            return value
        return shorten_title(value, n) if column == "title" else value[: n - 1] + "…"

    seen = _seen_rows(len(frame), rows["max_rows"])

    def render(line_width: int | None = None) -> str:
        shown = frame.copy() if text_cols else frame
        for c, n in limits.items():
            values = frame[c].tolist()
            for i in seen:  # only the rows pandas prints: ds.movies of ml-25m has 62,423
                values[i] = cut(c, values[i], n)
            shown[c] = values
        return pd.DataFrame.to_string(
            shown, formatters=floats, show_dimensions=False, line_width=line_width, **rows
        )

    while True:
        text = render()
        if max((len(line) for line in text.splitlines()), default=0) <= width:
            return text + more
        cuttable = [c for c in order if limits[c] > _FLOOR.get(c, 8)]
        if not cuttable:  # every column still shown, in wrapped blocks
            limits.update({c: max(limits[c], 24) for c in limits})
            return render(width) + more
        limits[cuttable[0]] = max(_FLOOR.get(cuttable[0], 8), limits[cuttable[0]] - 4)


def _seen_rows(n: int, max_rows: int | None) -> range | list[int]:
    """The positions of a frame's rows that its text can show: all, or pandas' head and tail of a frame
    longer than ``max_rows`` (this many each side covers ``display.min_rows``' half too)."""
    if not max_rows or n <= 2 * max_rows:
        return range(n)
    return [*range(max_rows), *range(n - max_rows, n)]


def _listed(values: list[object] | tuple[object, ...], n: int) -> str:
    """A list cell as pandas prints it, ``[Adventure, Animation, Children]``, within ``n`` characters: its
    first whole items and ``…`` (``[Adventure, Animation, …]``), or its first characters where not even one
    item fits."""
    text = "[" + ", ".join(map(str, values)) + "]"
    if len(text) <= n:
        return text
    kept: list[str] = []
    for value in map(str, values):
        if len("[" + ", ".join([*kept, value]) + ", …]") > n:
            break
        kept.append(value)
    return "[" + ", ".join([*kept, "…"]) + "]" if kept else text[: n - 1] + "…"


#: Metrics a one-line summary shows first, in this order (the rest only in the HTML table).
HEADLINE = ("rmse", "mae", "fcp", "mse", "ndcg", "precision", "recall", "map", "hit_rate", "auc")
_STYLE = (
    "<style>.mr-card{font-family:system-ui,sans-serif;font-size:13px;max-width:100%}"
    ".mr-card h4{margin:.2em 0 .4em}.mr-card .mr-scroll{overflow-x:auto;max-width:100%}"
    ".mr-card table{border-collapse:collapse}.mr-card td,.mr-card th{padding:2px 8px;text-align:right}"
    ".mr-card th{border-bottom:1px solid #ccc}.mr-card .mr-note{color:#666;margin:.3em 0}"
    ".mr-card .mr-ci{color:#666;font-size:11px;white-space:nowrap}.mr-card .mr-nw{white-space:nowrap}</style>"
)


def _n(x: float | int | None) -> str:
    if x is None:
        return "–"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    return "–" if not np.isfinite(x) else f"{float(x):.4f}"


def _metric_key(name: str) -> tuple[int, str]:
    base = name.split("@")[0]
    return (HEADLINE.index(base) if base in HEADLINE else len(HEADLINE), name)


def frame_html(frame: pd.DataFrame, *, max_rows: int = 20) -> str:
    """A DataFrame as an HTML table inside its own horizontal scroll box (never wider than the cell)."""
    shown = frame.head(max_rows)
    more = "" if len(frame) <= max_rows else f'<p class="mr-note">… {len(frame) - max_rows:,} more rows</p>'
    table = shown.to_html(index=False, border=0, na_rep="–", float_format=lambda v: f"{v:.4f}", escape=True)
    return f'<div class="mr-scroll">{table}</div>{more}'


def _card(title: str, body: str, note: str = "") -> str:
    foot = f'<p class="mr-note">{html.escape(note)}</p>' if note else ""
    return f'{_STYLE}<div class="mr-card"><h4>{html.escape(title)}</h4>{body}{foot}</div>'


# --- Dataset ---------------------------------------------------------------------------------


def percent(share: float) -> str:
    """A share as a percentage with two decimals, or two significant digits below 0.1% (a large
    catalogue's density, 0.0042%, would read 0.00% at two decimals)."""
    return f"{share:.2%}" if share >= 0.001 or share == 0 else f"{share * 100:.2g}%"


def count_text(value: float) -> str:
    """A count as tables and cards show it: thousands separated, a fractional one (a quantile, a median
    between two) to one decimal: ``2,698``, ``400.3``, ``12.5``."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


#: the width a repr's lines keep to: a terminal's, and a notebook cell's text output without a scroll bar
REPR_WIDTH = 80


def call_text(head: str, parts: Sequence[str], width: int = REPR_WIDTH, *, brackets: str = "()") -> str:
    """``head(part, part, …)`` within ``width`` columns: parts joined by ", " on one line while they fit,
    then on lines indented under the first part, as black and scikit-learn lay out a long call. A part is
    broken only at its own ", " when it is wider than a line by itself, and a part with no such place (a
    long path) runs past ``width`` whole rather than being cut: a repr's words are what a person greps for.

    ``Dataset('ml-latest-small': …)`` was one 119-character line, ``Comparison(…)`` 133 and
    ``Artifact(…)`` 114: a terminal and a notebook's text output broke them at the edge, mid-word."""
    indent = " " * (len(head) + 1)
    lines = [head + brackets[0]]
    pieces, broken = list(parts), False
    for i, part in enumerate(pieces):
        end = brackets[1] if i == len(pieces) - 1 else ","
        bits = _fitting(part + end, width - len(indent))
        for j, bit in enumerate(bits):
            sep = "" if i == 0 else " "
            if j == 0 and not broken and len(lines[-1]) + len(sep) + len(bit) <= width:
                lines[-1] += sep + bit
            else:
                lines.append(indent + bit)
        broken = len(bits) > 1  # the part after a broken one starts its own line, not beside its tail
    return "\n".join(lines)


def _fitting(text: str, room: int) -> list[str]:
    """``text`` as one piece, or where it is wider than ``room``, as lines broken after its ", "s."""
    if len(text) <= room:
        return [text]
    out = [""]
    for word in text.split(", "):
        piece = word if not out[-1] else f"{out[-1]}, {word}"
        if out[-1] and len(piece) + 1 > room:
            out[-1] += ","
            out.append(word)
        else:
            out[-1] = piece
    return out


def _rows_word(inter: Any) -> str:
    """What a dataset's rows are called: ``interactions`` for data without ratings (every rating one value,
    a log loaded with ``rating_col=None``), as ``data info`` and the lists count them, else ``ratings``."""
    return "interactions" if inter.interactions_only else "ratings"


def dataset_repr(ds: Any) -> str:
    """``Dataset('name': users × items, rows, density, …)``; data without ratings counts interactions and
    says, where movierec assumes it, that each row is a positive (``print(ds)`` said '2,275 ratings')."""
    from movierec.interactions import assumes_threshold

    inter = ds.interactions
    parts = [
        f"{inter.n_users:,} users × {inter.n_items:,} items",
        f"{inter.n_ratings:,} {_rows_word(inter)}",
        f"density {percent(inter.density)}",
    ]
    if assumes_threshold(inter):
        parts.append("no ratings: each row is a positive")
    if ds.catalog is not None:
        parts.append(f"catalogue {len(ds.catalog):,} movies")
    if ds.tags is not None:
        parts.append(f"{len(ds.tags):,} tags")
    if inter.dropped_duplicates:  # the rows the file had and the data has not: said where it is looked at
        parts.append(f"{inter.dropped_duplicates:,} duplicates dropped")
    parts[0] = f"{ds.name!r}: {parts[0]}"
    return call_text("Dataset", parts)


def dataset_html(ds: Any) -> str:
    inter = ds.interactions
    lo, hi = inter.rating_scale

    def count(n: int | None) -> str | None:  # 100,836 as the text repr writes it, not 100836
        return None if n is None else f"{n:,}"

    facts = pd.DataFrame(
        {
            "users": [count(inter.n_users)],
            "items": [count(inter.n_items)],
            _rows_word(inter): [count(inter.n_ratings)],
            "density": [percent(inter.density)],
            "scale": [f"{lo:g}–{hi:g}"],
            "mean rating": [f"{inter.global_mean:.2f}"],
            "catalogue": [None if ds.catalog is None else count(len(ds.catalog))],
            "tags": [None if ds.tags is None else count(len(ds.tags))],
        }
    )
    if inter.interactions_only:  # '1–1' and a mean rating of 1.00 say nothing about a log of who watched what
        facts = facts.drop(columns=["scale", "mean rating"])
    facts = facts.dropna(axis=1)  # a ratings file of one's own has no catalogue or tags: no 'None' cells
    body = frame_html(facts)
    # the load's notes (duplicates dropped, no times, the unit times were read in), which the CLI prints
    # and a notebook otherwise only had in ds.notes
    body += "".join(f'<p class="mr-note">note: {html.escape(n)}</p>' for n in ds.notes)
    if ds.movies is not None:
        # as ds.movies holds them (genres a list per movie): a pipe-joined card sent readers to
        # .str.split("|"), which gives NaN on lists without an error
        body += '<p class="mr-note">ds.movies (row i = item index i):</p>' + frame_html(ds.movies.head(5))
    return _card(f"Dataset {ds.name}", body, f"sha256 {ds.sha256[:12]}… · {ds.source}" if ds.sha256 else "")


# --- Result / Comparison ---------------------------------------------------------------------


def _headline(metrics: dict[str, float], n: int = 3) -> str:
    names = sorted(metrics, key=_metric_key)[:n]
    return ", ".join(f"{m}={_n(metrics[m])}" for m in names)


def result_repr(r: Any) -> str:
    where = [x for x in (r.dataset, r.split.split(" (")[0] if r.split else "") if x]
    metrics = _headline(r.metrics)
    return call_text(
        "Result",
        [repr(r.label), r.protocol, metrics, f"n_users={r.n_users:,}", *(where or ["no provenance"])],
    )


def result_frame(r: Any) -> pd.DataFrame:
    """One row per metric: value and its 95 % bootstrap interval (when the protocol has one) as ``lo`` and
    ``hi``, the names ``Comparison.to_frame()`` and results.csv give it (``ndcg@10_lo``/``ndcg@10_hi``)."""
    rows = []
    for m in sorted(r.metrics, key=_metric_key):
        lo, hi = r.intervals.get(m, (None, None))
        rows.append({"metric": m, "value": r.metrics[m], "lo": lo, "hi": hi})
    frame = pd.DataFrame(rows, columns=["metric", "value", "lo", "hi"])
    # no interval is NaN, as a ranking row's coverage reads: a rating row's lo/hi held None (object dtype)
    return frame.astype({"lo": float, "hi": float})


def result_html(r: Any) -> str:
    note = f"{r.dataset or '?'} · {r.split or '?'} · k={r.k} · seed {r.seed} · {r.n_users:,} users"
    return _card(f"{r.label} — {r.protocol}", frame_html(result_frame(r)), note)


def comparison_repr(c: Any) -> str:
    from movierec.tables import model_cells, ranked

    # each model as the tables name it ('warp+genres+tags'): the repr said 'warp' under a progress line
    # 'warp+genres+tags (3/3) · fitted', as if it had learned from no features
    named = model_cells(c)
    labels = list(dict.fromkeys(named[r.label] for r in c.rows))
    protos = c.protocol_order()
    best = []
    for p in protos:
        rows = [r for r in c.rows if r.protocol == p]
        metric = sorted({m for r in rows for m in r.metrics}, key=_metric_key)[:1]
        if metric:
            winner = c.winners().get((p, metric[0]))
            if winner:
                value = c.row(winner, p).metrics[metric[0]]
                best.append(f"{p}: {named[winner]} best {metric[0]} {_n(value)}")
    short = ", ".join(labels[:6]) + ("…" if len(labels) > 6 else "")
    split = c.split.split(" (")[0]
    text = call_text(
        "Comparison",
        [
            repr(c.dataset),
            split,
            *([f"k={c.k}"] if ranked(c) else []),
            f"models [{short}]",
            f"protocols [{', '.join(protos)}]",
        ],
    )
    if best:
        best.append("print() it for the tables; to_frame() for every number")
    elif not c.rows:  # everything was skipped: say why, not only the empty brackets
        notes = list(getattr(c, "notes", ()) or ())
        best.append("nothing scored" + (f": {notes[0]}" if notes else ""))
    import textwrap

    # a skipped protocol's reason ran to 170 characters on one line: each wraps, its rest indented under it
    lines = [textwrap.fill(b, REPR_WIDTH, initial_indent="  ", subsequent_indent="    ") for b in best]
    return "\n".join([text, *lines])


def comparison_text(c: Any, width: int | None = None) -> str:
    """The tables and notes ``movierec compare`` prints (one table per protocol, fitted to ``width``
    columns, the terminal's by default), as plain text: what ``print(comparison)`` shows in a script or a REPL,
    where the one-line repr leaves the numbers out."""
    import io
    import shutil

    from rich.console import Console
    from rich.text import Text

    from movierec.beyond_names import is_beyond
    from movierec.beyond_tables import beyond_tables
    from movierec.tables import Rstripped, print_comparison, print_lines

    width = width or shutil.get_terminal_size((100, 24)).columns
    out = io.StringIO()
    # force_jupyter=False: in a Jupyter kernel rich otherwise sends every console.print to IPython's display
    # (one HTML block each, 14 for five models and three protocols) and leaves ``out`` empty, so
    # print(comparison) showed a stack of separate outputs and then printed an empty string
    console = Console(
        file=out,
        width=width,
        no_color=True,
        highlight=False,
        color_system=None,
        soft_wrap=True,
        force_jupyter=False,
    )
    # as the CLI: accuracy in the protocol tables, beyond-accuracy and per-group figures in their own
    # (a column such as ndcg@10[activity gap] in the accuracy table lost its bracket to rich's markup)
    print_comparison(
        console,
        c,
        keep=lambda m: not m.startswith("novelty") and not is_beyond(m),
        every_column="to_frame() has every column",
    )
    for table in beyond_tables(c, width=width):
        console.print(Rstripped(table, width))  # this console's soft wrap: a group table's title on one line
    # the notes say how to read the numbers (explicit models ranked by predicted rating, what the
    # split keeps as candidates, protocols skipped): the CLI prints them, and so does print()
    for note in getattr(c, "notes", None) or []:
        print_lines(console, Text(f"note: {note}"))  # no line ending in spaces where it wraps
    return out.getvalue().rstrip("\n")


def comparison_table(c: Any, protocol: str) -> pd.DataFrame:
    """One protocol's rows: a row per model, a column per metric (the model label as the first column)."""
    rows = [r for r in c.rows if r.protocol == protocol]
    names = sorted({m for r in rows for m in r.metrics}, key=_metric_key)
    data = [{"model": r.label, **{m: r.metrics.get(m) for m in names}, "fit_s": r.fit_seconds} for r in rows]
    return pd.DataFrame(data, columns=["model", *names, "fit_s"])


def comparison_html(c: Any) -> str:
    from movierec.tables import model_cells

    named = model_cells(c)  # 'warp+genres+tags' as print() and the CLI name it (the card said 'warp')
    body = ""
    winners = c.winners()
    bracketed = False
    for p in c.protocol_order():
        table = comparison_table(c, p)
        shown = table.copy().astype(object)
        rows = {r.label: r for r in c.rows if r.protocol == p}
        for m in table.columns[1:-1]:
            best = winners.get((p, m))
            cells = []
            for lab, v in zip(table["model"], table[m], strict=True):
                cell = f"<b>{_n(v)}</b>" if lab == best else _n(v)
                # the 95% interval under its value, as print() shows NDCG's: the notebook's tables had
                # none, so 'bold = best' read as a winner where the intervals overlap
                lo, hi = rows[lab].intervals.get(m, (None, None))
                if lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi):
                    cell += f'<br><span class="mr-ci">[{_n(lo)}, {_n(hi)}]</span>'
                    bracketed = True
                cells.append(cell)
            shown[m] = cells
        shown["fit_s"] = [f"{v:.1f}" for v in table["fit_s"]]
        # whole on one line: beside the intervals' wider columns 'global-mean' broke at its hyphen
        shown["model"] = [
            f'<span class="mr-nw">{html.escape(named.get(str(v), str(v)))}</span>' for v in table["model"]
        ]
        body += f"<p><b>{html.escape(p)}</b></p>" + (
            '<div class="mr-scroll">' + shown.to_html(index=False, border=0, escape=False) + "</div>"
        )
    # the notes print() and the CLI show (why a protocol was skipped, what the split keeps as candidates,
    # why the users' counts differ): Jupyter's view of a comparison left them out
    notes = getattr(c, "notes", None) or []
    if notes:
        body += '<ul class="mr-note">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>"
    from movierec.tables import ranked

    note = f"{c.dataset} · {c.split} · {f'k={c.k} · ' if ranked(c) else ''}seed {c.seed}; bold = best"
    if bracketed:
        note += "; brackets: 95% bootstrap interval over users"
    return _card("Comparison", body, note)


# --- Projection / Artifact -------------------------------------------------------------------


def projection_repr(p: Any) -> str:
    return f"Projection({p.method}, {len(p.items):,} items, seed {p.seed}, {p.seconds:.1f} s)"


def projection_html(p: Any) -> str:
    body = frame_html(p.to_frame(), max_rows=5)
    return _card(
        projection_repr(p), body, "draw it with movierec.viz.embeddings.map_figure(frame, projection)"
    )


def artifact_repr(a: Any) -> str:
    return call_text(
        "Artifact",
        [
            f"{a.model_name!r} on {a.dataset_name!r}",
            a.kind,
            f"{a.n_users:,} users × {a.n_items:,} items",
            f"version {a.model_version[:12]}",
            str(a.path),
        ],
    )


def artifact_html(a: Any) -> str:
    facts = pd.DataFrame(
        [
            {
                "model": a.model_name,
                "kind": a.kind,
                "family": a.family,
                "dataset": a.dataset_name,
                # thousands separated, as the repr and the dataset's card give them ('9,724', not '9724')
                "users": count_text(a.n_users),
                "items": count_text(a.n_items),
                "created": when_text(a.created_at),
            }
        ]
    )
    return _card(f"Artifact {a.path}", frame_html(facts), f"model version {a.model_version}")


def when_text(iso: str) -> str:
    """A moment as a person reads it, in UTC to the minute: ``'2026-12-07 09:32 UTC'`` for the manifest's
    ``'2026-12-07T09:32:57+00:00'`` (03's artifact card showed the ISO text). A text that is not ISO 8601
    is shown as it is; the manifest and the JSON keep ISO."""
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if moment.tzinfo is None:  # no offset written: shown as written, not taken for UTC
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


# --- TuneResult ------------------------------------------------------------------------------


def _tune_lines(t: Any) -> list[str]:
    """What a study found, a sentence a line: the best value on validation and the test score, then which
    trial gave it (counted from 1 as the progress lines count, 'trial 1/4 complete'; Optuna numbers from 0)."""
    if t.best_value is None:
        return ["no complete trial"]
    better = "lower is better" if t.direction == "minimize" else "higher is better"
    test = "" if t.test_score is None else f", test {_n(t.test_score)}"
    lines = [f"best {t.metric} {_n(t.best_value)} on validation{test} ({better})"]
    if t.best_trial is not None:
        lines.append(f"best trial {t.best_trial + 1} of {t.n_trials} (Optuna's #{t.best_trial}){_gain(t)}")
    return lines


def _gain(t: Any) -> str:
    """What tuning gained over not tuning, as ``movierec tune`` prints it: the model's defaults' validation
    value on the same folds (``defaults_value``), or that the defaults were the best. The repr gave the best
    value alone, so a notebook could not tell 0.8830 after five trials from the defaults' 0.8856."""
    value = getattr(t, "defaults_value", None)
    if value is None:
        return ""
    if value == t.best_value:
        return ": the model's defaults"
    return f"; the defaults: {_n(value)}"


def _count(n: int, noun: str) -> str:
    """``"1 trial"``, ``"4 trials"``: a study's repr read 'TuneResult('svd' for ndcg@10: 1 trials, …)'."""
    return f"{n} {noun}{'s' if n != 1 else ''}"


def tune_repr(t: Any) -> str:
    """A study in lines of at most 80 columns, as :class:`~movierec.nested_tuning.NestedTuneResult` shows
    itself: what was searched, the best value and the test score, which trial, the parameters. It was one
    line of about 195 characters that a terminal and a notebook's text output broke at the edge."""
    head = call_text(
        "TuneResult",
        [
            f"{t.model!r} for {t.metric}: {_count(t.n_trials, 'trial')}",
            f"{t.n_complete} complete",
            f"{t.n_pruned} pruned",
        ],
    )
    lines = [head, *(f"  {line}" for line in _tune_lines(t))]
    params = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in t.best_params.items()]
    if params and t.best_value is not None:
        lines.append(call_text("  best_params ", params, brackets="{}"))
    return "\n".join([*lines, *_files_line(t)])


def _files_line(t: Any) -> list[str]:
    """Where a study written with ``out=`` put its files, and the command to run next on its ``best.toml``
    (the experiment file), as ``movierec tune`` ends: the repr named none, and ``res.files`` is not where a
    newcomer looks. A path is never cut (a long one makes a long line, as in the CLI's list of files)."""
    import os.path

    files = {key: str(path) for key, path in (getattr(t, "files", None) or {}).items()}
    if not files:
        return []
    paths = list(files.values())
    folder = os.path.dirname(paths[0]) if len(paths) == 1 else os.path.commonpath(paths)
    lines = [f"  files in {folder or '.'} (.files)"]
    if "best_toml" in files:
        lines.append(f"  next: movierec compare --config {files['best_toml']}")
    return lines


def tune_html(t: Any) -> str:
    rows = [
        {"hyperparameter": k, "value": repr(v) if not isinstance(v, float) else f"{v:.6g}"}
        for k, v in t.best_params.items()
    ]
    # the sentences the repr prints, a paragraph each: one run-on line read '… trial 1 of 4 (Optuna's #0)
    # (4 complete, 0 pruned)', and the note's 'cv 1' for what the progress line calls a validation split
    said = [*_tune_lines(t), f"{_count(t.n_trials, 'trial')}: {t.n_complete} complete, {t.n_pruned} pruned"]
    body = "".join(f'<p class="mr-note">{html.escape(line)}</p>' for line in said)
    if rows:
        body += frame_html(pd.DataFrame(rows))
    settings = t.settings or {}
    cv = settings.get("cv")
    note = " · ".join(
        str(x)
        for x in (
            settings.get("dataset"),
            None
            if not isinstance(cv, int)
            else "one 20% validation split"
            if cv == 1
            else f"{cv} inner folds",
            f"seed {settings['split_seed']}" if "split_seed" in settings else None,
            "to_frame(): every trial; plot(): the search",
        )
        if x
    )
    return _card(f"Tuning {t.model} for {t.metric}", body, note)


def nested_tune_html(t: Any, plan: str) -> str:
    """A :class:`~movierec.nested_tuning.NestedTuneResult` as a card, in :func:`tune_html`'s style: what was
    searched (the plan line), the outer folds' test scores as mean ± std (the repr's summary), and a row per
    fold with its sizes, validation and test scores and the parameters its study chose. A notebook showed
    the repr's text for it, beside the study's card a cell above. ``plan``: the plan line's words
    (:func:`movierec.nested_tuning.plan_words`, given: nested_tuning imports this module)."""
    said = [f"{t.model} for {t.metric}: {plan}", t.summary()]
    better = {"minimize": "lower", "maximize": "higher"}.get(t.direction)
    if better and t.mean is not None:
        said[1] += f" ({better} is better)"
    body = "".join(f'<p class="mr-note">{html.escape(line)}</p>' for line in said)
    rows = []
    for r in t.folds:
        row: dict[str, Any] = {
            "fold": r["fold"],
            "n_train": count_text(r["n_train"]),
            "n_test": count_text(r["n_test"]),
            "validation": r["validation"],
            "test": r["test"],
        }
        row.update(
            {
                k: f"{v:.4g}" if isinstance(v, float) else str(v)
                for k, v in (r.get("best_params") or {}).items()
            }
        )
        if not r.get("best_params"):
            row["chosen"] = "no complete trial"
        rows.append(row)
    if rows:
        body += frame_html(pd.DataFrame(rows))
    settings = t.settings or {}
    note = " · ".join(
        str(x)
        for x in (
            settings.get("dataset"),
            t.outer,
            "to_frame(): a row per fold; studies: each fold's TuneResult",
        )
        if x
    )
    return _card(f"Nested tuning of {t.model} for {t.metric}", body, note)
