"""Comparison tables that fit the terminal they are printed on (80 columns included).

One table per protocol, so each shows only its own metrics; columns go in headline order (RMSE
first for ratings, NDCG@K first for rankings) and are added while they fit. Bootstrap intervals
appear under every value when every chosen column still fits with them, and otherwise under the
headline metric alone (the one models are compared by); the model names and the headline metric
are never cut. What did not fit is named under the table, with where to find
it (``--json``, ``--out``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from rich import box
from rich.markup import escape
from rich.table import Table

__all__ = [
    "SHORT_NAMES",
    "Rstripped",
    "caption_lines",
    "comparison_tables",
    "metric_order",
    "print_caption",
    "print_lines",
    "score_decimals",
    "shown_decimals",
]

#: Short column headers (the legend under the tables spells them out).
SHORT_NAMES = {
    "rmse": "RMSE",
    "mae": "MAE",
    "mse": "MSE",
    "fcp": "FCP",
    "ndcg": "NDCG",
    "precision": "P",
    "recall": "R",
    "hit_rate": "HR",
    "map": "MAP",
    "mrr": "MRR",
    "coverage": "Cov",
    "auc": "AUC",
}
_LEGEND = {
    "precision": "P = precision",
    "recall": "R = recall",
    "hit_rate": "HR = hit rate",
    "coverage": "Cov = catalogue coverage",
    "fcp": "FCP = fraction of concordant pairs",
    "auc": "AUC = share of (test positive, other candidate) pairs ranked right",
}
# MSE (RMSE squared) last: the first column left out when the table is too wide
_RATING_ORDER = ("rmse", "mae", "fcp", "mse")
# AUC is there only when asked for (--auc), so it comes right after the headline NDCG
_RANKING_ORDER = ("ndcg", "auc", "precision", "recall", "hit_rate", "map", "mrr", "coverage")
_INTERVAL_W = 15  # "[0.5520,0.5930]"
_VALUE_W = 8  # "★ 0.5661"


def _base(metric: str) -> str:
    return metric.split("@")[0]


def metric_order(names: list[str]) -> list[str]:
    """Metrics in headline order: rating errors, then NDCG, precision, recall, …; unknown ones last."""
    order = (*_RATING_ORDER, *_RANKING_ORDER)
    return sorted(names, key=lambda m: (order.index(_base(m)) if _base(m) in order else len(order), m))


def _header(metric: str) -> str:
    base, _, k = metric.partition("@")
    short = SHORT_NAMES.get(base, base)
    return f"{short}@{k}" if k else short


def _fmt(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.4f}"


def _columns(
    metrics: list[str], label_w: int, width: int, with_intervals: int
) -> tuple[list[str], list[str]]:
    """The metrics that fit in ``width`` (the first always), and the ones left out; the first
    ``with_intervals`` columns are as wide as an interval."""
    # model | metrics… | users | fit s; each column costs its width plus 3 (padding and rule)
    used = 4 + label_w + 3 + 6 + 3 + 6
    shown: list[str] = []
    for i, m in enumerate(metrics):
        cell = _INTERVAL_W if i < with_intervals else _VALUE_W
        need = max(len(_header(m)), cell) + 3
        if i > 0 and used + need > width:
            return shown, metrics[i:]
        shown.append(m)
        used += need
    return shown, []


def comparison_tables(
    comp: Any,
    width: int,
    *,
    keep: Callable[[str], bool] | None = None,
    every_column: str = "--json or --out has every column",
) -> tuple[list[Table], list[str]]:
    """Rich tables (one per protocol) for a :class:`~movierec.evaluation.Comparison`, each within ``width``.

    Returns the tables and footnotes (abbreviations, columns left out). ``keep`` filters metrics
    (e.g. leaves out those the beyond-accuracy tables show); ``every_column`` says where the columns
    left out at this width are (the CLI's options, or ``to_frame()`` from Python).
    """
    winners = comp.winners()
    shown = model_cells(comp)
    label_w = max([5, *(len(x) for x in shown.values())])
    tables: list[Table] = []
    left_out: dict[str, list[str]] = {}
    used_headers: set[str] = set()
    any_interval = False
    headline_only: dict[str, str] = {}  # protocol → the one column with intervals at this width
    for proto in comp.protocol_order():
        rows = [r for r in comp.rows if r.protocol == proto]
        names = [m for m in dict.fromkeys(m for r in rows for m in r.metrics) if keep is None or keep(m)]
        names = metric_order(names)
        has_ci = any(r.intervals.get(m) for r in rows for m in names)
        # intervals under every value when all columns fit with them; otherwise under the headline
        # metric alone (the column people compare models by), the others as plain values
        cols, rest = _columns(names, label_w, width, with_intervals=len(names))
        n_ci = len(cols) if has_ci and not rest else 0
        if not n_ci:
            n_ci = 1 if has_ci else 0
            cols, rest = _columns(names, label_w, width, with_intervals=n_ci)
            if n_ci and len(cols) > 1:
                headline_only[proto] = _header(cols[0])
        any_interval |= n_ci > 0
        if rest:
            left_out[proto] = rest
        table = Table(
            title=f"{proto}", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False
        )
        table.add_column("model", no_wrap=True, min_width=label_w)
        for m in cols:
            used_headers.add(m)
            table.add_column(_header(m), justify="right", no_wrap=True)
        table.add_column("users", justify="right", no_wrap=True)
        table.add_column("fit s", justify="right", no_wrap=True)
        several = len(rows) > 1
        # every model that ties the best value gets the star (winners() names the first of them)
        by_label = {r.label: r for r in rows}
        best = {
            m: by_label[winners[(proto, m)]].metrics.get(m)
            for m in cols
            if winners.get((proto, m)) in by_label
        }
        for r in rows:
            cells = []
            for m in cols:
                v = r.metrics.get(m)
                text = _fmt(v)
                if several and m in best and v is not None and v == best[m]:
                    text = f"[bold green]★ {text}[/]"
                ci = r.intervals.get(m) if cols.index(m) < n_ci else None
                if ci:
                    text += f"\n[dim]\\[{ci[0]:.4f},{ci[1]:.4f}][/]"
                cells.append(text)
            table.add_row(escape(shown[r.label]), *cells, f"{r.n_users:,}", f"{r.fit_seconds:.1f}")
        tables.append(table)
    notes = []
    legend = sorted({_LEGEND[_base(m)] for m in used_headers if _base(m) in _LEGEND})
    brackets = "; brackets: 95% bootstrap interval over users" if any_interval else ""
    if headline_only:
        brackets += f" ({_where_intervals(headline_only)})"
    # with one model per protocol nothing is starred, so the legend says only what the brackets are
    starred = any(sum(r.protocol == proto for r in comp.rows) > 1 for proto in comp.protocol_order())
    if starred:
        notes.append("★ best in its protocol" + brackets)
    elif brackets:
        text = brackets.removeprefix("; ")
        notes.append(text[:1].upper() + text[1:])
    notes.extend(_legend_lines(legend, width))
    for proto, rest in left_out.items():
        notes.append(f"{proto}: {', '.join(rest)} not shown at this width ({every_column})")
    return tables, notes


def _where_intervals(headline_only: dict[str, str]) -> str:
    """Which column keeps its intervals when the table is too narrow for all of them: 'under NDCG@10 only
    at this width' where every such table keeps the same one; otherwise each protocol's own ('only under
    NDCG@10 in full-ranking, P@10 in test-candidates at this width'), since 'under NDCG@10, P@10' read as
    both columns in every table, and full-ranking's P@10 has none."""
    if len(set(headline_only.values())) == 1:
        return f"under {next(iter(headline_only.values()))} only at this width"
    where = ", ".join(f"{header} in {proto}" for proto, header in headline_only.items())
    return f"only under {where} at this width"


def _legend_lines(entries: list[str], width: int) -> list[str]:
    """The legend's definitions (``P = precision``) joined by "; " into lines of at most ``width``, breaking
    only between two of them: wrapped by the terminal, "FCP =" ended one line and "fraction of concordant
    pairs" began the next at 80 columns. A definition longer than ``width`` stays whole on its own line."""
    lines: list[str] = []
    for entry in entries:
        if lines and len(lines[-1]) + 2 + len(entry) <= width:
            lines[-1] += "; " + entry
        else:
            lines.append(entry)
    return lines


def model_cells(comp: Any) -> dict[str, str]:
    """Each row's label as its model cell shows it: with the item features its model learned from, in the
    report's NAME+feature form ('ease+genres+tags'; a re-ranked row 'ease+genres+tags+mmr:0.3'). Under
    ``--item-features genres,tags`` the rows read 'ease' and 'warp' like models without them, and only a
    note naming the models that ignore them hinted otherwise. The labels themselves (the rows' keys in
    results.json, best.toml and ``Comparison.row``) are left as they are."""
    featured: dict[str, str] = getattr(comp, "item_features", None) or {}
    cells: dict[str, str] = {}
    for r in comp.rows:
        base = next((b for b in featured if r.label == b or r.label.startswith(f"{b}+")), None)
        if base is None or f"+{featured[base]}" in r.label:  # none, or a label that says them (report's)
            cells[r.label] = r.label
        else:
            cells[r.label] = f"{base}+{featured[base]}{r.label[len(base) :]}"
    return cells


def caption(comp: Any) -> str:
    """The one line of provenance printed above the tables (wraps on a narrow terminal), with the user
    features the models learned from where some did (``comp.user_features``: ``user features
    demographics``, as the report's page says them): a row's label names its item features
    (``warp+genres``), and nothing printed named the user features segment-popularity or warp learned from."""
    sha = comp.dataset_sha256[:12] if comp.dataset_sha256 else "?"
    relevance = (
        "the next item"
        if comp.split.startswith(("leave-last-out", "last-session"))
        else f"≥ {comp.threshold:g}"
    )
    users = getattr(comp, "user_features", None)
    ranking = f"K={comp.k} · relevance {relevance} · " if ranked(comp) else ""
    return (
        f"{comp.dataset} (sha256 {sha}…) · split: {comp.split} · {ranking}"
        f"{f'user features {users} · ' if users else ''}seed {comp.seed}"
    )


def ranked(comp: Any) -> bool:
    """Whether a ranking protocol ran in ``comp``: K and the relevance threshold apply to nothing else, yet a
    rating-only comparison's caption read 'K=10 · relevance ≥ 4' and its repr 'k=10' above RMSE and MAE.
    Without rows, its protocols say (none: true, as the report's caption, always over a ranking, passes)."""
    rows = getattr(comp, "rows", None)
    if rows:
        return any(r.protocol != "rating" for r in rows)
    protocols = getattr(comp, "protocols", None) or []
    return not protocols or any(p != "rating" for p in protocols)


#: what joins the caption's parts ('ml-latest-small (sha256 …) · split: … · K=10 · relevance ≥ 4 · seed 42')
_PART = " · "


def caption_lines(text: str, width: int, *, split_wide: bool = True) -> list[str]:
    """The caption broken between its parts (joined by ' · '), as many whole parts a line as fit in
    ``width`` cells, each line broken at a ' · ' ending ' ·' (the caption reads on), as
    :func:`movierec.cli.common.print_table` breaks a list's title. A part wider than ``width`` alone (the
    split's description: 'split: interactions-holdout (positives ≥ 4, 0.2 held out, LightFM
    random_train_test_split, seed 42)', 95 cells) breaks after one of its commas. Word-wrapped at 80
    columns, the caption split '(positives' from '≥ 4, …' and 'relevance' from '≥ 4'. ``split_wide=False``
    keeps such a part whole on its line (a list's title, which its printer word-wraps)."""
    from rich.cells import cell_len

    tokens: list[tuple[str, str]] = []  # (text, what joins it to the one before)
    parts = text.split(_PART)
    mark = _PART.rstrip()
    for n, part in enumerate(parts):
        # a part with another after it may end its line with the mark: it must fit beside it, or the
        # mark wrapped alone onto a line of its own (print(comparison) at 99-100 columns)
        fits = width - (cell_len(mark) if n + 1 < len(parts) else 0)
        pieces = part.split(", ") if split_wide and cell_len(part) > fits else [part]
        for i, piece in enumerate(pieces):
            tokens.append(
                (piece + ("," if i < len(pieces) - 1 else ""), (_PART if n else "") if i == 0 else " ")
            )
    lines: list[str] = []
    for i, (piece, joiner) in enumerate(tokens):
        # a line that may break before the next part ends ' ·': room for the mark
        breaks_next = i + 1 < len(tokens) and tokens[i + 1][1] == _PART
        room = width - (cell_len(mark) if breaks_next else 0)
        if lines and cell_len(lines[-1] + joiner + piece) <= room:
            lines[-1] += joiner + piece
        else:
            if lines and joiner == _PART:
                lines[-1] += mark
            lines.append(piece)
    return lines


class Rstripped:
    """``renderable`` as the console renders it, each line without the spaces rich pads it with on the right
    (a table's cells to their column's width, a wrapped note's last word): piped, ``movierec compare`` left
    20-60 trailing spaces on every interval row and one after each wrapped word of a note."""

    def __init__(self, renderable: Any, width: int | None = None) -> None:
        self.renderable = renderable
        self.width = width

    def __rich_console__(self, console: Any, options: Any) -> Any:
        from rich.segment import Segment

        if self.width is not None:
            options = options.update(width=min(self.width, options.max_width))
        for line in console.render_lines(self.renderable, options, pad=False):
            while line and not line[-1].control and not line[-1].text.rstrip(" "):
                line = line[:-1]
            if line and not line[-1].control:
                last = line[-1]
                line = [*line[:-1], Segment(last.text.rstrip(" "), last.style, last.control)]
            yield from line
            yield Segment.line()


def print_lines(console: Any, text: Any, **options: Any) -> None:
    """``text`` (markup, or a rich Text) word-wrapped at ``console.width`` with no trailing spaces."""
    from rich.text import Text

    body = Text.from_markup(text, overflow="fold") if isinstance(text, str) else text
    console.print(Rstripped(body), soft_wrap=False, **options)


def print_caption(console: Any, text: str) -> None:
    """The caption above the tables, broken between its parts at ``console.width`` (:func:`caption_lines`)."""
    from rich.text import Text

    for line in caption_lines(text, console.width):
        console.print(Rstripped(Text(line, overflow="fold")), soft_wrap=False)


def print_comparison(
    console: Any,
    comp: Any,
    *,
    keep: Callable[[str], bool] | None = None,
    every_column: str = "--json or --out has every column",
) -> None:
    """Print the caption, one table per protocol and the footnotes, all within ``console.width``, no
    line ending in spaces."""
    width = console.width
    print_caption(console, caption(comp))
    tables, notes = comparison_tables(comp, width, keep=keep, every_column=every_column)
    for table in tables:
        console.print()
        console.print(Rstripped(table, width))  # the console's soft wrap, as before Rstripped
    for note in notes:
        print_lines(console, f"[dim]{note}[/]")


def shown_decimals(scores: Sequence[float]) -> int:
    """:func:`score_decimals`, or none where every score is a whole number: a count (popularity's, the
    fallback's) reads 274, not 274.000, in the CLI's lists and in a printed DataFrame alike."""
    values = [float(s) for s in scores]
    if values and all(math.isfinite(v) and v.is_integer() for v in values):
        return 0
    return score_decimals(values)


def score_decimals(scores: list[float]) -> int:
    """Decimals that show a column of scores to three significant digits of its largest value (3 at least).

    EASE's item weights for 'similar' are 0.004–0.007: at a fixed 3 decimals they all read 0.004, while
    0.00712 / 0.00523 show the gaps that ordered the list. A score that those decimals would print as zero
    gets two significant digits of its own, and the column the decimals that takes: markov's list for user 1
    read 0.143 then 0.000 nine times (0.000449 … 0.000272, the movies no transition from the last one reaches,
    in the order the model still gives them), as if the model scored them nothing.
    """
    finite = [abs(float(s)) for s in scores if math.isfinite(float(s))]
    top = max(finite, default=0.0)
    decimals = 3 if top == 0.0 or top >= 0.1 else min(8, 2 - math.floor(math.log10(top)))
    least = min((v for v in finite if v > 0.0), default=0.0)
    if 0.0 < least < 0.5 * 10.0**-decimals:  # it would read 0.000
        decimals = min(8, max(decimals, 1 - math.floor(math.log10(least))))
    return decimals
