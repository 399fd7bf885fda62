"""Objects that render: a short repr, an HTML card for notebooks, ``to_frame()``; evaluate() fills provenance."""

from __future__ import annotations

import datetime as dt
import re
from html import escape

import numpy as np
import pandas as pd
import pytest

import movierec
from movierec.errors import ConfigError
from movierec.evaluation import compare, evaluate, make_split
from movierec.models.registry import create

#: one worker runs the file (make test's --dist loadgroup), so its module fixtures (ease_rec, svd_rec) are
#: fitted once, not once per worker that draws one of their tests
pytestmark = pytest.mark.xdist_group("test_display")


@pytest.fixture(scope="module")
def ds() -> movierec.Dataset:
    return movierec.load("ml-latest-small")


@pytest.fixture(scope="module")
def ease_rec(ds: movierec.Dataset) -> movierec.Recommender:
    """``Recommender(ds, "ease").fit()``, fitted once for the module (~0.6 CPU-s a fit, seven tests): the tests
    only read it (lists, similar, repr, export to their own folder); its lazy caches are the same for all."""
    return movierec.Recommender(ds, "ease").fit()


@pytest.fixture(scope="module")
def svd_rec(ds: movierec.Dataset) -> movierec.Recommender:
    """``Recommender(ds, "svd").fit()`` (its default seed), fitted once for the two tests that print its list."""
    return movierec.Recommender(ds, "svd").fit()


def test_dataset_repr_fits_80_columns(ds: movierec.Dataset) -> None:
    """It was one 119-character line, broken mid-word at a terminal's edge; its second line now sits
    under the first part, as a long call is laid out."""
    text = repr(ds)
    assert text == (
        "Dataset('ml-latest-small': 610 users × 9,724 items, 100,836 ratings,\n"
        "        density 1.70%, catalogue 9,742 movies, 3,683 tags)"
    )
    html = ds._repr_html_()
    assert "<table" in html and "ds.movies" in html and len(html) < 20_000
    # the card's counts read as the text repr's do (it showed 100836 and 9742)
    assert ">100,836<" in html and ">9,724<" in html and ">9,742<" in html and "100836" not in html
    assert list(ds.to_frame().columns[:3]) == ["userId", "movieId", "rating"]
    assert "density 1.70%" in text


def test_dataset_card_shows_ds_movies_as_it_is(ds: movierec.Dataset) -> None:
    """The card's 'ds.movies' rows showed genres joined as 'Adventure|Animation|…' while ds.movies holds a
    list per movie: a newcomer who read the card wrote MovieLens' ds.movies["genres"].str.split("|") and
    got an empty Series (NaN on every row) with no error. The card now shows the lists ds.movies holds."""
    html = ds._repr_html_()
    first = ds.movies["genres"].iloc[0]
    assert isinstance(first, list) and len(first) > 1
    assert "[Adventure, Animation, Children, Comedy, Fantasy]" in html, html
    assert "|".join(first) not in html


def test_percent_keeps_two_significant_digits_for_a_sparse_catalogue() -> None:
    from movierec.display import percent

    # ml-latest-small, ml-25m, and a catalogue so large that two decimals would print 0.00%
    assert [percent(x) for x in (0.017, 0.0026, 0.000042)] == ["1.70%", "0.26%", "0.0042%"]


def test_evaluate_fills_provenance_and_renders(ds: movierec.Dataset) -> None:
    train, test, desc = make_split(ds.interactions, "ratings-holdout", seed=1)
    model = create("baseline").fit(train)
    res = evaluate(model, train, test, "rating", dataset=ds)
    assert res.dataset == "ml-latest-small" and res.dataset_sha256 == ds.sha256
    assert res.split == desc and res.split.startswith("ratings-holdout")
    bare = evaluate(model, train, train.subset(np.arange(100)), "rating")
    assert bare.dataset.startswith("unnamed (610 users") and bare.split.startswith("given train/test")
    text = repr(res)
    assert (
        text.startswith("Result('baseline', rating, rmse=") and "ml-latest-small" in text and len(text) < 200
    )
    frame = res.to_frame()
    assert list(frame["metric"])[:2] == ["rmse", "mae"]
    assert "<table" in res._repr_html_()


def test_comparison_repr_html_and_frames(ds: movierec.Dataset) -> None:
    comp = compare(ds, ["baseline", "popularity"], protocols=["rating", "full-ranking"], seed=3)
    text = repr(comp)
    assert len(text) < 600 and text.startswith("Comparison('ml-latest-small'")
    best = comp.row(comp.winners()[("full-ranking", "ndcg@10")], "full-ranking").metrics["ndcg@10"]
    assert f"best ndcg@10 {best:.4f}" in text  # the headline number, not only the winner's name


def test_a_missing_row_says_which_part_is_missing(ds: movierec.Dataset) -> None:
    """comp.row("svdd", "full-ranking") said only "no row for model 'svdd' under protocol 'full-ranking'":
    not whether the label or the protocol was wrong, nor why ease has no rating row."""
    comp = compare(ds, ["baseline", "popularity"], protocols=["rating", "full-ranking"], seed=3)
    head = "no row for model {!r} under protocol {!r}: "
    cases = {
        ("baselin", "rating"): "no model is labelled 'baselin' (did you mean 'baseline'?); "
        "the labels: baseline, popularity",
        ("baseline", "full-rank"): "no protocol 'full-rank' was scored (did you mean 'full-ranking'?); "
        "the protocols: rating, full-ranking",
        ("popularity", "rating"): "rating skipped for popularity: popularity is an implicit model",
    }
    for (label, protocol), why in cases.items():
        with pytest.raises(ConfigError) as err:
            comp.row(label, protocol)
        assert str(err.value).startswith(head.format(label, protocol) + why), str(err.value)


def test_a_mistyped_protocol_or_metric_is_refused_with_the_likely_fix(ds: movierec.Dataset) -> None:
    """comp.to_frame("full-rank") returned an empty frame ("Columns: []") and no word on why; plot("ndgc@10")
    and plot("ndcg@5") (at k=10) listed twelve metrics without the one meant."""
    comp = compare(ds, ["baseline", "popularity"], protocols=["rating", "full-ranking"], seed=3)
    with pytest.raises(ConfigError) as err:
        comp.to_frame("full-rank")
    assert str(err.value) == (
        "to_frame('full-rank'): no row under protocol 'full-rank' (did you mean 'full-ranking'?); "
        "the protocols here: rating, full-ranking"
    )
    with pytest.raises(
        ConfigError, match=r"^to_frame\('sampled'\): no row under protocol 'sampled'; the proto"
    ):
        comp.to_frame("sampled")  # a protocol this comparison did not run
    assert list(comp.to_frame("rating")["model"]) == ["baseline"]  # as before
    pytest.importorskip("plotly")
    for metric in ("ndgc@10", "ndcg@5"):
        with pytest.raises(
            ConfigError, match=rf"^no row has '{metric}' \(did you mean 'ndcg@10'\?\); metrics"
        ):
            comp.plot(metric)
    with pytest.raises(ConfigError, match=r"'full-rank' \(did you mean 'full-ranking'\?\)"):
        comp.plot(protocol="full-rank")


def test_an_empty_comparison_says_why_in_its_repr(ds: movierec.Dataset) -> None:
    """compare(ds, ['popularity'], protocols=['test-candidates']) skips its one protocol (the split holds
    positives only); its repr read 'models [], protocols []' and nothing else."""
    comp = compare(ds, ["popularity"], protocols=["test-candidates"])
    assert not comp.rows
    text = repr(comp)
    head, said = re.split(r"\n  (?=\S)", text, maxsplit=1)  # the call's own lines, then what is said under it
    assert " ".join(head.split()).endswith("models [], protocols [])")
    assert said.startswith("nothing scored: test-candidates skipped: every test item is relevant")
    assert max(len(line) for line in text.splitlines()) <= 80  # the reason was one 170-character line


def test_a_rating_only_comparison_says_no_k_and_no_relevance(ds: movierec.Dataset) -> None:
    """``compare(ds, ['baseline', 'svd'], protocols='rating')`` printed 'K=10 · relevance ≥ 4' in its caption
    and 'k=10' in its repr and its card, though RMSE and MAE have neither. Left out where no ranking
    protocol ran; a comparison with one keeps them."""
    from movierec.tables import caption

    comp = compare(ds, ["baseline", "svd"], protocols="rating", progress=False)
    text, html = " ".join(str(comp).split()), comp._repr_html_()
    said = [caption(comp), " ".join(repr(comp).split()), text, html]
    assert not [s for s in said if re.search(r"\b[Kk]=10\b|relevance", s)], said
    assert caption(comp).endswith(
        "· split: ratings-holdout (0.2 of ratings, Surprise train_test_split, seed 42) · seed 42"
    )
    assert "ratings-holdout, models [baseline, svd]" in said[1]
    assert "seed 42) · seed 42; bold = best" in html
    both = compare(ds, ["popularity"], protocols=["rating", "full-ranking"], progress=False)
    assert "K=10 · relevance ≥ 4 · seed 42" in caption(both) and "k=10" in repr(both)
    assert "· k=10 · seed 42; bold = best" in both._repr_html_()


def test_reprs_keep_within_80_columns_and_break_only_between_parts(tmp_path, ds: movierec.Dataset) -> None:  # type: ignore[no-untyped-def]
    """Comparison's first line was 133 characters, an Artifact's 114, a TuneResult's about 195: each broke
    at the terminal's edge, mid-word. They break after a part's comma, under the opening bracket; a part
    too wide for a line breaks at its own commas, and one with none (a path) runs over whole, never cut."""
    from movierec.display import call_text
    from movierec.tuning import tune

    comp = compare(
        ds, ["global-mean", "baseline", ("svd", {"epochs": 2})], protocols=["rating", "full-ranking"],
        seed=42, progress=False,
    )  # fmt: skip
    assert repr(comp).splitlines()[:3] == [
        "Comparison('ml-latest-small', ratings-holdout, k=10,",
        "           models [global-mean, baseline, svd],",
        "           protocols [rating, full-ranking])",
    ]
    art = movierec.Recommender(ds, "popularity").fit().export(tmp_path / "art")
    lines = repr(art).splitlines()
    assert lines[0] == "Artifact('popularity' on 'ml-latest-small', implicit, 610 users × 9,724 items,"
    assert " ".join(" ".join(lines[1:]).split()) == f"version {art.model_version[:12]}, {tmp_path / 'art'})"
    assert all(line.startswith(" " * 9) for line in lines[1:])  # under the opening bracket
    res = tune(ds, "baseline", metric="rmse", n_trials=2, cv=1, seed=42, progress=False)
    for text in (repr(comp), repr(res), repr(comp.rows[0])):
        assert max(len(line) for line in text.splitlines()) <= 80, text
    wide = ["'x'", "a, " * 30 + "z", "/" + "p" * 90]
    lines = call_text("Thing", wide).splitlines()
    assert lines[0] == "Thing('x'," and lines[-1] == "      /" + "p" * 90 + ")"  # the path whole
    assert all(len(line) <= 80 for line in lines[:-1]) and all(
        line.startswith("      ") for line in lines[1:]
    )
    assert " ".join(" ".join(lines).split()) == "Thing(" + ", ".join(wide) + ")"  # nothing lost or cut


def test_a_recommender_and_its_model_show_only_what_was_changed(
    ds: movierec.Dataset, ease_rec: movierec.Recommender
) -> None:
    """repr(Recommender(ds, "ease").fit()) was one 249-character line with every hyperparameter
    (EASE(l2=50.0, dropout=0.0, …)); it now names those that differ from the class's defaults, as
    scikit-learn prints an estimator; the HTML card and get_params() keep them all."""
    from movierec.models.registry import MODELS, get_class

    ease = ease_rec
    assert repr(ease) == "Recommender(EASE() on 'ml-latest-small', fitted)"
    assert repr(ease.model) == "EASE()" and ">50.0<" in ease._repr_html_()
    svd = movierec.Recommender(ds, "svd", n_factors=100, lr_all=0.01)  # Surprise's names, ours in the repr
    assert repr(svd) == (
        "Recommender(SVD(factors=100, learning_rate=0.01, random_state=42, lr_bias=0.01) on "
        "'ml-latest-small', not fitted)"
    )
    for name in MODELS:  # knn's similarity=None becomes 'msd' in __post_init__: still its default
        assert repr(create(name)) == f"{get_class(name).__name__}()"
    assert repr(create("knn-basic", similarity="cosine")) == "KNNBasic(similarity='cosine')"


def test_a_printed_list_shows_its_titles_within_the_width(
    ds: movierec.Dataset, ease_rec: movierec.Recommender
) -> None:
    """print(rec.recommend(1)) in a prompt or a script at 80 columns read 'movieId ... score': pandas hid
    the titles. The lists cut long text cells instead (titles last) and stay DataFrames in every other way."""
    from movierec.display import Recommendations, fitted_text

    rec = ease_rec
    for frame in (
        rec.recommend(1, k=12, explain=True),
        rec.similar("Toy Story", k=8),
        rec.recommend(1, k=80),
    ):
        assert isinstance(frame, pd.DataFrame) and isinstance(frame, Recommendations)
        for width in (60, 80, 120):
            text = fitted_text(frame, width)
            lines = text.splitlines()
            assert max(len(line) for line in lines) <= width
            assert all(c in text for c in frame.columns)  # no column hidden (pandas drops names)
        assert "Toy Story 2 (1999)" in fitted_text(frame, 80) or "similarity" not in frame.columns
    top = rec.recommend(1, k=5)
    assert "Terminator 2: Judgment Day (1991)" in fitted_text(top, 80)  # a 33-character title whole at 80
    assert isinstance(top.head(2), Recommendations) and isinstance(top["score"], pd.Series)
    assert "[80 rows]" in fitted_text(rec.recommend(1, k=80), 80)  # pandas' row cut, said in words
    assert (
        repr(top)
        == fitted_text(top)
        + "\nscore: on the model's own scale, not a rating; only the order means something"
    )
    # scores to three significant digits (EASE's similarities are ~0.005: three decimals would blur them)
    sim = rec.similar("Toy Story", k=3, by="model")  # ease's own weights (lift's read 2.14, 1.46 …)
    assert f"{sim['similarity'].iloc[0]:.5f}" in fitted_text(
        sim, 80
    ) and f"{top['score'].iloc[0]:.3f}" in repr(top)
    wide = top.assign(
        imdbId="0103064", tmdbId="280", because="Terminator, The (1984); Aliens (1986)", year=1991
    )
    text = fitted_text(wide, 60)  # too many columns for one block: they wrap, none is hidden
    assert max(len(line) for line in text.splitlines()) <= 60 and all(c in text for c in wide.columns)


def test_a_printed_list_cuts_titles_as_the_cli_does(
    ds: movierec.Dataset, svd_rec: movierec.Recommender
) -> None:
    """print(rec.recommend(1)) at 80 columns cut svd's titles at the column's last character and lost the
    year ('Dr. Strangelove or: How I Learn…', 'City of God (Cidade de Deus) (2…') where the CLI's list read
    'Dr. Strangelove or: How I Learned… (1964)'. Both now cut with one function, at a word, year kept."""
    from movierec.cli import common
    from movierec.display import fitted_text
    from movierec.titles import shorten_title

    assert common.shorten_title is shorten_title  # the CLI's list_table and fitted_text share it
    top = svd_rec.recommend(1, k=10)
    lines = fitted_text(top, 80).splitlines()[2:]  # header and index name, then one line per movie
    # titles first: the ids and counts, then the predicted rating (5.000 under a 16-character name) make room
    assert lines.pop() == "(not shown, in the frame: imdbId, tmdbId, year, n_ratings, predicted_rating)"
    cut = 0
    for line, title in zip(lines, top["title"], strict=True):
        if title in line:
            continue
        found = re.search(r"  (\S(?:\S| (?=\S))*)… (\(\d{4}\))  ", line)  # 'Dr. Strangelove or: How… (1964)'
        assert found, line
        head, year = found.groups()
        assert title.startswith(head) and title.endswith(year), (line, title)  # the year kept
        assert title[len(head)] in " ,:;(-", (line, title)  # cut between words, not inside one
        # what the CLI prints at that width ('Kill Bill: Vol. 1' cut after 'Bill:' reads 'Kill Bill…')
        assert any(shorten_title(title, len(head) + n) == f"{head}… {year}" for n in (8, 9, 10))
        cut += 1
    assert cut >= 2, lines  # at 80 columns svd's top 10 has long titles to cut
    assert any("Dr. Strangelove or: How I Learned to Stop… (1964)" in line for line in lines), lines
    assert shorten_title("Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", 24) == "Twelve Monkeys… (1995)"


def test_a_printed_rating_models_list_gives_its_titles_the_room(
    ds: movierec.Dataset, svd_rec: movierec.Recommender
) -> None:
    """svd's list at pandas' default 80 columns cut 'One Flew Over the Cuckoo's Nest (1975)' to 'One Flew Over
    the… (1975)' and 'Crime|Drama' to 'Crime|D…' beside a ``predicted_rating`` column 16 characters wide for
    5.000 on most rows. Where titles would be cut, the predicted rating is left out after the ids and
    counts, as the CLI's list leaves it out first, and named on the last line; wider, it is shown."""
    from movierec.display import fitted_text

    top = svd_rec.recommend(1, k=5)
    text = fitted_text(top, 80)
    assert all(t in text for t in top["title"]) and "Crime|Drama" in text, text
    assert "predicted_rating" not in text.splitlines()[0] and text.endswith("n_ratings, predicted_rating)")
    wide = fitted_text(top, 100)  # room for it and the titles: shown, with only the ids and counts left out
    assert "predicted_rating" in wide.splitlines()[0] and all(t in wide for t in top["title"]), wide
    # a notebook's HTML table: the browser wrapped titles to fit a narrow output; the title column keeps 16em
    page = str(top._repr_html_())
    at = top.index.nlevels + list(top.columns).index("title") + 1
    assert re.search(rf"td:nth-child\({at}\) {{min-width: 16em}}", page), page[:600]


@pytest.mark.browser
def test_a_notebooks_list_at_phone_width_keeps_its_reasons_readable(
    browser, ds: movierec.Dataset, ease_rec: movierec.Recommender
) -> None:  # type: ignore[no-untyped-def]
    """A list's HTML in a 375 px page (a phone, a narrow notebook output) in Debian's headless Chromium: the
    title column kept its 16em, but ``because`` was squeezed to its longest word, so each reason ('Alien
    (1979); Heat (1995)') took four lines, every title parted from its year, and each row grew four lines
    tall (h207's look). ``because`` keeps 16em too: each reason reads in at most two lines, the table
    scrolls sideways instead."""
    ease = ease_rec
    top = ease.recommend_for({"Alien": 5, "Heat": 4.5}, k=5, explain=True)
    assert all(";" in reason for reason in top["because"]), top  # each names both movies
    page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=1)
    page.set_content(f'<meta name="viewport" content="width=device-width"><body>{top._repr_html_()}</body>')
    lines = page.evaluate(
        """(col) => { const t = document.querySelector('table.dataframe');
        const at = [...t.tHead.rows[0].cells].findIndex(c => c.textContent === col);
        return [...t.tBodies[0].rows].map(r => { const g = document.createRange();
          g.selectNodeContents(r.cells[at]); return new Set([...g.getClientRects()].map(q => Math.round(q.top))).size; }); }""",
        "because",
    )
    page.close()
    assert len(lines) == 5 and max(lines) <= 2, lines


def test_a_list_in_jupyter_shows_every_title_and_reason_whole(
    ds: movierec.Dataset, ease_rec: movierec.Recommender
) -> None:
    """Jupyter showed pandas' HTML table, which cuts text at 50 characters: 01_tutorial's list similar to
    The Matrix read "Star Wars: Episode V - The Empire Strikes Back..." (no year), and user 1's fifth reason
    "Back to the Future (1985); M*A*S*H (a.k.a. MAS...". The HTML table keeps every cell whole."""
    rec = ease_rec
    lists = (rec.similar("Star Wars: Episode IV", k=5), rec.recommend(1, k=5, explain=True))
    for frame in lists:
        table = frame._repr_html_()
        assert table is not None and "<table" in table and "..." not in table and "…" not in table
        long_cells = [v for c in ("title", "because") if c in frame for v in frame[c] if len(v) > 50]
        assert long_cells, frame  # the case pandas cut
        assert all(escape(v, quote=False) in table for v in long_cells), long_cells  # as to_html escapes
        assert pd.get_option("display.max_colwidth") == 50  # pandas' own setting is left as it was


def test_a_list_says_what_its_score_means_under_its_table(
    tmp_path, ds: movierec.Dataset, ease_rec: movierec.Recommender
) -> None:  # type: ignore[no-untyped-def]
    """The CLI prints under every list what its score is ("score: on the model's own scale, not a rating;
    only the order means something"); a DataFrame from recommend had nowhere to say it, so ease's 0.0536
    read as a probability and svd's 4.954 beside predicted_rating 5.000 as a second rating. The sentence
    rides in ``frame.attrs["about"]`` and the list prints it under its table, text and HTML, for every
    door (Recommender, Artifact) and every kind of list, while the frame has the column."""
    from movierec.display import SCORE_OF_RANKING_MODEL, SCORE_OF_RATING_MODEL

    svd = movierec.Recommender(ds, "svd", epochs=2).fit()
    ease = ease_rec
    art = ease.export(tmp_path / "ease")
    lift = "liked together this many times as often as chance says, shrunk for few co-ratings"
    own = "the model's own scale, shrunk for few co-ratings; only order counts"
    with pytest.warns(UserWarning, match="most-liked movies"):
        fallback = ease.recommend_for({"Toy Story": 2}, k=3)  # no rating reaches 4: popularity's counts
    cases = [
        (svd.recommend(1, k=5), "score", SCORE_OF_RATING_MODEL),
        (svd.recommend_for({"Toy Story": 5}, k=5), "score", SCORE_OF_RATING_MODEL),
        (ease.recommend(1, k=5, explain=True), "score", SCORE_OF_RANKING_MODEL),
        (ease.recommend([1, 2], k=2), "score", SCORE_OF_RANKING_MODEL),  # one frame for two users
        (art.recommend(1, 5), "score", SCORE_OF_RANKING_MODEL),
        (fallback, "score", "the movie's n_liked (the popularity fallback's ranking, not the model's)"),
        (svd.similar("Toy Story", k=3), "similarity", lift),
        (art.similar(1, 3), "similarity", lift),
        (svd.similar("Toy Story", k=3, by="model"), "similarity", own),
    ]
    for frame, column, meaning in cases:
        assert frame.attrs["about"] == {column: meaning}, (frame.attrs, column)
        assert " ".join(repr(frame).split()).endswith(f"{column}: {meaning}"), repr(frame)
        page = frame._repr_html_()
        assert page is not None and page.endswith(f"{escape(column + ': ' + meaning)}</p>"), page[-300:]
    assert fallback["score"].iloc[0] == fallback["n_liked"].iloc[0]  # the count the note names
    with pd.option_context("display.width", 80):
        for frame, _, _ in cases:
            assert max(len(line) for line in repr(frame).splitlines()) <= 80, repr(frame)
    top = cases[0][0]
    assert repr(top.head(2)).endswith(SCORE_OF_RATING_MODEL) and repr(top[["title", "score"]]).endswith(
        SCORE_OF_RATING_MODEL
    )  # a slice keeps the note; without the column it has nothing to explain
    assert "shrunk" not in repr(top.drop(columns="score")) and "shrunk" not in str(
        top.drop(columns="score")._repr_html_()
    )


def test_a_list_in_jupyter_reads_its_text_columns_from_the_left(
    ds: movierec.Dataset, ease_rec: movierec.Recommender
) -> None:
    """pandas right-aligns every cell: on a phone-width page (the docs site gives an output 242 pixels) a
    list scrolls sideways and showed each title's end, cut at a different place ('Godfather' far right
    of 'Shawshank Redempti'). Titles, genres and reasons are left-aligned by a rule of the table's own,
    whose positions are those columns' places in the row (after the index), whatever comes first."""
    rec = ease_rec
    for frame in (rec.recommend(1, k=3, explain=True), rec.recommend([1, 2], k=2), rec.similar("Alien", k=3)):
        page = frame._repr_html_()
        assert page is not None
        name = re.search(r'<table border="1" class="dataframe (mr-left-[\d-]+)">', page)
        assert name is not None, page[:500]
        head = re.findall(r"<th>([^<]*)</th>", page.split("</tr>")[0])  # the first header row, index first
        wanted = [n for n, c in enumerate(head, 1) if c in ("title", "genres", "because")]
        assert len(wanted) == len({"title", "genres", "because"} & set(frame.columns)) >= 2, head
        rule = re.search(r"<style>([^<]*)\{text-align: left\}</style>", page)
        assert rule is not None
        spots = sorted(
            {
                int(n)
                for n in re.findall(
                    rf"table\.dataframe\.{name.group(1)} td:nth-child\((\d+)\)", rule.group(1)
                )
            }
        )
        assert spots == wanted, (spots, wanted, head)


def test_print_comparison_shows_the_tables_within_the_width(ds: movierec.Dataset) -> None:
    from movierec.display import comparison_text

    comp = compare(ds, ["baseline", "popularity"], protocols=["rating", "full-ranking"], seed=3)
    for width in (80, 120):
        text = comparison_text(comp, width)
        lines = text.splitlines()
        assert max(len(line) for line in lines) <= width
        assert lines[0].startswith("ml-latest-small (sha256")
        assert "\nrating\n" in text and "\nfull-ranking\n" in text  # one table per protocol, in order
        assert text.index("\nrating\n") < text.index("\nfull-ranking\n")
        rmse = comp.row("baseline", "rating").metrics["rmse"]
        ndcg = comp.row("popularity", "full-ranking").metrics["ndcg@10"]
        assert f"{rmse:.4f}" in text and f"{ndcg:.4f}" in text
        assert "\x1b[" not in text  # plain text: no colour codes in a log or a pipe
        # the CLI's notes too: why baseline's full-ranking figures sit below popularity's
        # by the shrunk score they rank by (a LensKit reader saw 'by predicted rating' and expected the raw one)
        note = "note: explicit models are ranked by predicted rating, shrunk for rarely rated movies, in the"
        assert note in " ".join(text.split()), text
    assert "to_frame() has every column" in comparison_text(comp, 80)  # Python's way, not the CLI's --json
    assert str(comp) == comparison_text(comp)
    # the users column read 610 under rating and fewer under full-ranking with nothing to say why
    rated, ranked = comp.row("baseline", "rating").n_users, comp.row("popularity", "full-ranking").n_users
    assert ranked < rated
    assert (
        f"users: rating {rated:,}, full-ranking {ranked:,}: a ranking protocol counts only users with a "
        f"test rating ≥ 4 ({rated - ranked} have none)"
    ) in comp.notes
    html = comp._repr_html_()
    assert html.count("<table") == 2 and "<b>" in html and len(html) < 30_000
    # Jupyter's view shows the notes too (it showed the tables alone), escaped: "≥ 4" and all
    assert comp.notes and all(f"<li>{escape(n)}</li>" in html for n in comp.notes), html[-3000:]
    full = comp.to_frame()
    assert set(full["protocol"]) == {"rating", "full-ranking"}
    ranking = comp.to_frame("full-ranking")
    assert "rmse" not in ranking.columns and "ndcg@10" in ranking.columns


def test_projection_and_map_figure(ds: movierec.Dataset) -> None:
    pytest.importorskip("plotly")
    from movierec.viz.embeddings import item_frame, map_figure, project

    vectors = np.random.default_rng(0).normal(size=(ds.interactions.n_items, 8))
    proj = project(vectors, "pca", sample=60)
    assert repr(proj).startswith("Projection(pca, 60 items") and len(repr(proj)) < 100
    assert list(proj.to_frame().columns) == ["item", "x", "y"] and len(proj.to_frame()) == 60
    frame = item_frame(ds.item_table(), ds.interactions.item_counts())
    fig = map_figure(frame, proj, title="t")
    import plotly.graph_objects as go

    assert isinstance(fig, go.Figure) and sum(len(t.x) for t in fig.data) == 60
    assert "<table" in proj._repr_html_()


def test_artifact_repr(tmp_path, ds: movierec.Dataset) -> None:  # type: ignore[no-untyped-def]
    rec = movierec.Recommender(ds, "popularity").fit()
    art = rec.export(tmp_path / "art")
    assert repr(art).startswith("Artifact('popularity' on 'ml-latest-small'") and " at 0x" not in repr(art)
    assert "<table" in art._repr_html_()
    # its counts as the dataset's card and the repr give them: 03's card read 'items 9724' beside
    # the repr's '9,724 items' and the dataset card's '9,724'
    counts = re.findall(r"<td>([\d,]+)</td>", art._repr_html_())
    assert counts == [f"{ds.interactions.n_users:,}", f"{ds.interactions.n_items:,}"] == ["610", "9,724"], (
        counts
    )
    frame = art.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == ds.interactions.n_items
    # 'created' as a person reads it (03's card showed '2026-12-07T09:32:57+00:00'); the manifest keeps ISO
    when = dt.datetime.fromisoformat(art.created_at)
    assert when.tzinfo is not None and "T" in art.created_at
    shown = re.findall(r"<td>(\d{4}-\d\d-\d\d[^<]*)</td>", art._repr_html_())
    assert shown == [when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")], shown
    from movierec.display import when_text

    assert when_text("2026-12-07T09:32:57+00:00") == "2026-12-07 09:32 UTC"
    assert when_text("2026-12-07T10:32:57+01:00") == "2026-12-07 09:32 UTC"
    assert when_text("yesterday") == "yesterday"


def test_comparison_plot_shows_one_metric_best_first_with_intervals(ds: movierec.Dataset) -> None:
    pytest.importorskip("plotly")
    comp = compare(ds, ["baseline", "popularity", "ease"], protocols=["rating", "full-ranking"], seed=3)
    fig = comp.plot()  # default: NDCG@10 of the ranking protocol
    bar = fig.data[0]
    ndcg = {r.label: r.metrics["ndcg@10"] for r in comp.rows if r.protocol == "full-ranking"}
    assert list(bar.y) == sorted(ndcg, key=ndcg.get, reverse=True) and bar.y[0] == "ease"
    np.testing.assert_allclose(bar.x, sorted(ndcg.values(), reverse=True))
    lo, hi = comp.row("ease", "full-ranking").intervals["ndcg@10"]
    assert bar.error_x.visible and bar.error_x.array[0] == pytest.approx(hi - bar.x[0])
    assert bar.error_x.arrayminus[0] == pytest.approx(bar.x[0] - lo)
    assert "ndcg@10 (higher is better) · full-ranking" in fig.layout.title.text
    rmse = comp.plot("rmse").data[0]  # lower is better: the smallest error first; only rating models
    assert list(rmse.y) == ["baseline"]
    assert "lower is better" in comp.plot(protocol="rating").layout.title.text
    with pytest.raises(ConfigError, match=r"no row has 'foo'.*ndcg@10"):
        comp.plot("foo")
    with pytest.raises(ConfigError, match="no rows for protocol 'sampled'"):
        comp.plot(protocol="sampled")


def test_a_metric_named_as_the_printed_table_heads_it_is_that_metric(ds: movierec.Dataset) -> None:
    """print(comparison) heads its columns NDCG@10, P@10, R@10, HR@10 ("P = precision; R = recall" under
    them); typed back, plot("P@10") said "no row has 'P@10' (did you mean 'map@10'?)", plot("NDCG@10") was
    refused, and tune's metric "R@10" said "did you mean 'hit_rate@10'?". A header is the metric it heads."""
    pytest.importorskip("plotly")
    from movierec.metrics import metric_name, parse_metric
    from movierec.tables import SHORT_NAMES

    comp = compare(ds, ["popularity", "ease"], protocols=["full-ranking"], seed=3, progress=False)
    printed = str(comp)
    for header, metric in (("NDCG@10", "ndcg@10"), ("P@10", "precision@10"), ("R@10", "recall@10")):
        assert header in printed
        bar = comp.plot(header).data[0]
        assert list(bar.x) == sorted((r.metrics[metric] for r in comp.rows), reverse=True), header
        assert parse_metric(header).label == metric
    assert comp.plot("HR@10").layout.title.text.startswith("hit_rate@10 ")
    assert comp.plot("Cov@10").layout.title.text.startswith("coverage@10 ")
    with pytest.raises(ConfigError, match=r"^no row has 'P@5' \(did you mean 'precision@10'\?\)"):
        comp.plot("P@5")
    # every header the tables print reads back as its metric (tables.SHORT_NAMES and metrics kept in step)
    assert all(metric_name(header) == base for base, header in SHORT_NAMES.items())


def test_a_printed_list_keeps_text_ids_whole() -> None:
    """A shop's list printed at 80 columns read 'SKU-003…' in its movieId column: text columns other than
    title, genres and because were cut first, ids included, and a cut id cannot be typed back. Ids stay whole;
    the titles give way."""
    from movierec.display import Recommendations, fitted_text

    frame = Recommendations(
        {
            "movieId": ["SKU-003114", "SKU-001073", "SKU-000034"],
            "title": ["Toy Story 2 (1999)", "Willy Wonka & the Chocolate Factory (1971)", "Babe (1995)"],
            "genres": ["Adventure|Animation|Children|Comedy|Fantasy", "Children|Comedy|Fantasy", "Children"],
            "similarity": [2.143, 1.464, 1.455],
        },
        index=pd.RangeIndex(1, 4, name="rank"),
    )
    for width in (60, 80):
        text = fitted_text(frame, width)
        assert all(sku in text for sku in frame["movieId"]), text
        assert max(len(line) for line in text.splitlines()) <= width and "…" in text  # the text gave way
    users = Recommendations(
        {"userId": ["u_00042-" + "x" * 40], "movieId": ["SKU-1"], "title": ["T"], "score": [1.0]}
    )
    assert "u_00042-" + "x" * 40 in fitted_text(users, 80)


def test_a_dataset_that_dropped_duplicates_says_so_where_a_notebook_looks(tmp_path) -> None:
    """The CLI prints 'note: dropped 2 duplicate (user, item) ratings, kept the latest'; in Python the same
    load was silent unless one read ds.notes: the repr and the notebook card said nothing. Both say it now."""
    path = tmp_path / "export.csv"
    rows = "1,10,4,100\r\n1,20,3,101\r\n2,10,5,102\r\n1,10,2,900\r\n2,10,5,102\r\n"
    path.write_bytes(("\ufeffuserId,movieId,rating,timestamp\r\n" + rows).encode())
    ds = movierec.load(path)
    assert ds.interactions.n_ratings == 3 and "3 ratings" in repr(ds) and "2 duplicates dropped" in repr(ds)
    assert "note: dropped 2 duplicate (user, item) ratings, kept the latest" in ds._repr_html_()
    assert "duplicates" not in repr(movierec.load("ml-latest-small"))


def test_a_dataset_without_ratings_counts_interactions_in_its_repr_and_card(tmp_path) -> None:
    """docs/data.md says print(ds) tells data without ratings that each row is a positive; it printed
    "Dataset('watched': 3 users × 3 items, 5 ratings, density 55.56%)", and the card showed a scale of
    '1–1', a mean rating of 1.00 and 'None' for the catalogue and tags a ratings file of one's own lacks."""
    path = tmp_path / "watched.csv"
    path.write_text("user,item\n1,10\n1,20\n2,10\n3,30\n2,30\n")
    ds = movierec.load(path, user_col="user", item_col="item", rating_col=None)
    assert repr(ds) == (
        "Dataset('watched': 3 users × 3 items, 5 interactions, density 55.56%,\n"
        "        no ratings: each row is a positive)"
    )
    html = ds._repr_html_()
    assert "<th>interactions</th>" in html and "<th>ratings</th>" not in html
    assert "mean rating" not in html and "1–1" not in html and ">None<" not in html
    assert "note: no ratings: each row is a positive" in html
    rated = movierec.load(pd.DataFrame({"userId": [1, 2], "movieId": [1, 1], "rating": [4.0, 2.0]}))
    assert "2 ratings" in repr(rated) and "positive" not in repr(rated)
    assert "<th>mean rating</th>" in rated._repr_html_() and ">None<" not in rated._repr_html_()


def test_a_list_of_data_without_titles_prints_its_ids_without_the_empty_columns(tmp_path) -> None:
    """A ratings file with tt ids and no movies= printed 'tt0114716  item tt0114716  NaN' per movie: a title
    repeating the id, a year of NaN and empty genres. The text leaves them out and says where they are and how
    to fill them; the frame keeps every column, and a list with titles prints as before."""
    path = tmp_path / "ratings.csv"
    rows = [f"u{u},tt{1000 + (u * 3 + j) % 12:07d},{1 + (u + j) % 5}" for u in range(30) for j in range(6)]
    path.write_text("userId,movieId,rating\n" + "\n".join(rows) + "\n")
    rec = movierec.Recommender(movierec.load(path), "ease").fit()
    recs = rec.recommend("u1", k=3, min_support=0)
    assert list(recs.columns[:4]) == ["movieId", "title", "year", "genres"]  # the API's columns stay
    with pd.option_context("display.width", 80):
        text = repr(recs)
    lines = text.splitlines()
    assert lines[0].split() == ["movieId", "score", "n_liked"], text
    assert "item tt" not in text and "NaN" not in text and all(len(line) <= 80 for line in lines), text
    assert " ".join(text.split()).count(
        "(not shown, in the frame: title, year, genres; the data has no titles: movies= gives them)"
    ), text
    titles = tmp_path / "titles.csv"
    titles.write_text("movieId,title\n" + "\n".join(f"tt{1000 + i:07d},Film {i} (2001)" for i in range(12)))
    titled = movierec.Recommender(movierec.load(path, movies=titles), "ease").fit()
    with pd.option_context("display.width", 80):
        text = repr(titled.recommend("u1", k=3, min_support=0))
    assert "Film " in text.splitlines()[2] and "not shown" not in text, text


def test_a_caption_never_leaves_its_mark_alone_on_a_line() -> None:
    """At 99-100 columns (print(comparison) outside a terminal) the split's 98-cell part took its line and
    the ' ·' after it wrapped onto a line of its own. Every width from 20 to 200: each line fits, none is
    the mark alone, and joined back the lines are the caption."""
    from rich.cells import cell_len

    from movierec.tables import caption_lines

    caption = (
        "ml-latest-small (sha256 80da8b3393da…) · split: interactions-holdout (positives ≥ 4, 0.2 held out, "
        "LightFM random_train_test_split, seed 42) · K=10 · relevance ≥ 4 · seed 42"
    )
    for width in range(60, 201):
        lines = caption_lines(caption, width)
        assert all(cell_len(line) <= width for line in lines), (width, lines)
        assert all(line.strip() != "·" for line in lines), (width, lines)
        assert " ".join(lines) == caption
    assert caption_lines(caption, 99)[0].endswith("0.2 held out,")  # the split's part broke after a comma


def test_a_list_of_counts_prints_whole_numbers(ds: movierec.Dataset, ease_rec: movierec.Recommender) -> None:
    """The popularity fallback's scores are how many liked each movie: printed 274.000, they read as a
    model's score with three decimals where the CLI prints 274. A rating keeps its decimals, whole or not."""
    import warnings

    from movierec.display import fitted_text

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no rating reaches the threshold: the fallback, with a warning
        fallback = ease_rec.recommend_for({"Toy Story": 2}, k=3)
    text = fitted_text(fallback, 80)
    assert re.search(r"Shawshank Redemption, The \(1994\)\s+Crime\|Drama\s+274$", text, flags=re.M), text
    assert ".000" not in text
    rated = pd.DataFrame({"movieId": [1, 2], "score": [4.954, 4.9], "predicted_rating": [5.0, 5.0]})
    assert "5.000" in fitted_text(rated, 80) and "4.954" in fitted_text(rated, 80)


def test_a_study_of_one_trial_says_trial_not_trials(ds: movierec.Dataset) -> None:
    """A study's repr read "TuneResult('baseline' for rmse: 1 trials, 1 complete, 0 pruned)", and its
    HTML card '1 trials: 1 complete, 0 pruned'."""
    from movierec.tuning import tune

    res = tune(ds, "baseline", metric="rmse", n_trials=1, cv=1, seed=42, progress=False)
    text = " ".join(repr(res).split())
    assert "for rmse: 1 trial, 1 complete" in text and "1 trials" not in text, text
    assert "1 trial: 1 complete" in res._repr_html_() and "1 trials" not in res._repr_html_()


@pytest.mark.parametrize(
    ("liked_from", "interactions_only", "kind", "words", "column"),
    [
        (4.0, False, "likes", "ratings of 4+", "n_liked"),
        (3.5, False, "likes", "ratings of 3.5+", "n_liked"),
        (None, False, "ratings", "ratings", "n_ratings"),
        (4.0, True, "interactions", "interactions", "n_ratings"),
        (None, True, "interactions", "interactions", "n_ratings"),
    ],
)
def test_what_a_count_counts_is_one_rule_said_in_each_doors_words(
    liked_from: float | None, interactions_only: bool, kind: str, words: str, column: str
) -> None:
    """The CLI's count column and support floor ('ratings of 4+'), the API's ``ratingsCounted`` ('likes'),
    export's training line and popularity's score note each decided what a count counts in their own copy of
    the rule (the CLI's read 'one value' off the rating scale, the API's the manifest's interactions_only).
    They now all read :func:`movierec.display.count_kind`; the words, the DataFrame's column and the API's
    declared values follow from it."""
    import typing

    from movierec.display import CountKind, count_kind, counted
    from movierec.serving.artifact import count_column
    from movierec.serving.schemas import MovieDetail, MovieList, RecommendationsResponse

    assert count_kind(liked_from, interactions_only) == kind
    assert counted(liked_from, interactions_only) == words
    assert count_column(liked_from, interactions_only) == column
    for schema in (RecommendationsResponse, MovieDetail, MovieList):  # the API's values, which clients read
        declared = schema.model_fields["ratingsCounted"].annotation
        assert set(typing.get_args(declared)) == set(typing.get_args(CountKind)), schema


def test_a_notebooks_views_of_a_comparison_name_the_item_features_a_model_learned_from(
    ds: movierec.Dataset,
) -> None:
    """01's implicit comparison (``item_features="genres,tags"``) showed ``warp+genres+tags (3/3) · fitted``
    as it ran, and ``print()`` and the CLI name that row ``warp+genres+tags`` (tables.model_cells), but the
    card Jupyter shows under it, its repr and ``plot()`` named it ``warp``, as if no features were used. Each
    now names the model as the tables do; popularity, which ignores them, keeps its name."""
    pytest.importorskip("plotly")
    comp = compare(
        ds, ["popularity", ("warp", {"epochs": 1})], protocols=["full-ranking"], item_features="genres,tags",
        seed=3, progress=False,
    )  # fmt: skip
    assert comp.item_features == {"warp": "genres+tags"}
    assert "warp+genres+tags" in str(comp)  # the text tables' name: the one to follow
    page = comp._repr_html_()
    cells = re.findall(r'<span class="mr-nw">([^<]+)</span>', page)
    assert cells == ["popularity", "warp+genres+tags"], cells
    assert "models [popularity, warp+genres+tags]" in " ".join(repr(comp).split()), repr(comp)
    assert sorted(comp.plot().data[0].y) == ["popularity", "warp+genres+tags"]
    # the labels themselves, the rows' keys, are left as they are
    assert comp.row("warp", "full-ranking").label == "warp" and "warp" in comp.to_frame()["model"].tolist()
