"""A title that names several movies is refused in two rows of an 80-column terminal at every door, naming
a few of the most-rated whole with their movieIds; an exact title far less rated than titles holding its
words is one of several, not the answer.

Before: ``recommend --exclude "Star Wars"`` read 171 columns (the titles code could not see the CLI's
``--exclude: ``), and on a terminal the CLI's wrap at spaces made even ``similar "star wars"``'s 160
columns three rows; ``similar "The"`` (2,940 titles) showed one; a long first title was cut to make room
for a second ('Harry Potter and… (2001) [4896]', 'Lord of the Rings: The… (2001) [4993]'); and ``similar
"lord of the rings"`` answered the 1978 animated film (an exact title, 15 raters here) while the 2001-2003
films hold those words with 10 times the ratings."""

from __future__ import annotations

import re
import textwrap

import pytest

import movierec
from clihelp import run_cli
from movierec.datasets import Dataset
from movierec.errors import ConfigError
from movierec.titles import match_title

#: ambiguous on ml-latest-small: long titles, a franchise, thousands of matches
QUERIES = ["star wars", "harry potter", "lord of the", "rings", "The", "a", "batman"]


@pytest.fixture(scope="module")
def bundled() -> Dataset:
    return movierec.load("ml-latest-small")


def _rows(line: str) -> list[str]:
    """``line`` as the CLI shows it on an 80-column terminal (``movierec.cli._fitted``: wrapped at spaces)."""
    return textwrap.wrap(line, 80, break_long_words=False, break_on_hyphens=False)


def _refusal(ds: Dataset, query: str, said: str = "", id_hint: str = "--movie-id") -> str:
    titles = [str(t) for t in ds.item_table()["title"]]
    inter = ds.interactions
    with pytest.raises(ConfigError) as err:
        match_title(query, titles, inter.item_counts(), id_hint=id_hint, ids=inter.item_map, said=said)
    return f"movierec: error: {said}{err.value}"


def _shown(line: str) -> list[str]:
    """The titles an ambiguity line names, each with its ', movieId N' where it is one to choose from."""
    listed = line.split(" movies: ", 1)[1].rsplit("; ", 1)[0]
    return [re.sub(r" and \d+ more$", "", t) for t in listed.split("; ")]


@pytest.mark.parametrize("query", QUERIES)
def test_an_ambiguity_reads_in_two_rows_after_any_prefix(bundled: Dataset, query: str) -> None:
    for said, hint in [("", "--movie-id"), ("", "the movieId"), ("--exclude: ", "the movieId")]:
        line = _refusal(bundled, query, said, hint)
        assert len(line) <= 160 and len(_rows(line)) <= 2, "\n".join(_rows(line))


def test_the_cli_doors_refuse_an_ambiguous_title_in_two_rows(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (
        ["similar", "Star Wars"],
        ["recommend", "--user", "1", "--exclude", "Star Wars"],
        ["recommend", "--rated", "Harry Potter=5"],
        ["recommend", "--user", "1", "--exclude", "harry potter"],
    ):
        code, _, err = run_cli([*args, "--model", "popularity"], capsys)
        line = err.strip()
        assert code == 2 and err.count("\n") == 1 and " movies: " in line, err
        assert len(line) <= 160 and len(_rows(line)) <= 2, "\n".join(_rows(line))
        assert ("--exclude: " in line) == ("--exclude" in args), line
        assert ("--rated: " in line) == ("--rated" in args), line
    # a misspelling's "did you mean" takes --exclude's room too (171 columns before)
    code, _, err = run_cli(["recommend", "--user", "1", "--exclude", "Star Warz"], capsys)
    line = err.strip()
    assert code == 2 and line.startswith("movierec: error: --exclude: no movie title matches"), err
    assert len(line) <= 160 and len(_rows(line)) <= 2, "\n".join(_rows(line))


def test_thousands_of_matches_show_a_few_of_the_most_rated_whole(bundled: Dataset) -> None:
    line = _refusal(bundled, "The")
    shown = _shown(line)
    assert 2 <= len(shown) <= 3, line
    assert shown[0] == "Shawshank Redemption, The (1994)", line  # the most-rated leads where it can
    assert all("…" not in t for t in shown), line
    # examples of thousands carry no ids (no one picks among them by id; 'Shawshank Redemption, The (1994)
    # [318]' left room for no other), and still fit two rows
    assert "movieId" not in line and "[" not in line, line
    shown = _shown(_refusal(bundled, "a"))
    assert shown == ["Star Wars: Episode IV - A New Hope (1977)", "Bug's Life, A (1998)"], shown
    assert line.endswith(f"and {2940 - len(shown)} more; be more specific or use --movie-id"), line


@pytest.mark.parametrize("query", ["harry potter", "lord of the", "rings", "star wars"])
def test_a_title_is_shown_whole_rather_than_cut_for_a_second(bundled: Dataset, query: str) -> None:
    """Fewer titles, each whole with its year and id; a later one may leave out the words it shares with
    the first ('… Chamber of Secrets (2002), movieId 5816'), never its own. Only a first title too long for the
    line alone is cut, keeping the words that tell it from the others ('Harry Potter and the Sorcerer's…
    (2001), movieId 4896', where it was 'Harry Potter and… (2001) [4896]; … Chamber of Secrets …'). The id
    named as one (', movieId 4896', not ' [4896]', which reads as a year) takes 7 more columns: the cut is
    at 30 characters or more (35 with the bare id)."""
    for said in ("", "--exclude: "):
        line = _refusal(bundled, query, said)
        shown = _shown(line)
        for t in shown:
            assert re.search(r" \(\d{4}\), movieId \d+$", t), line  # year and id kept, the id named as one
            cut = t.removeprefix("… ").split("…")
            assert len(cut) == 1 or (len(shown) == 1 and len(cut[0]) >= 30), line  # cut only when alone


def test_an_exact_title_far_less_rated_than_titles_holding_its_words_is_one_of_them(
    bundled: Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    titles = [str(t) for t in bundled.item_table()["title"]]
    support = bundled.interactions.item_counts()
    ids = bundled.interactions.item_map
    # misspelt, as typed right: 'lord of the rigns' was read as the 1978 film (a one-typo misspelling)
    for query in [
        "lord of the rings",
        "The Lord of the Rings",
        "ghostbusters",
        "lord of the rigns",
        "Ghostbustres",
    ]:
        with pytest.raises(ConfigError, match=" movies: "):
            match_title(query, titles, support, ids=ids)
    assert _shown(_refusal(bundled, "lord of the rigns"))[0].startswith("Lord of the Rings: The Fellowship")
    line = _refusal(bundled, "lord of the rings")
    shown = _shown(line)
    # the most-rated first, then the exact title typed, so the line says that it is one of them
    assert shown[0].startswith("Lord of the Rings: The Fellowship") and "movieId 4993" in shown[0], line
    assert "add the year" in line and len(_rows(line)) <= 2, line
    for query, title in [
        ("lord of the rings 1978", "Lord of the Rings, The (1978)"),
        ("Lord of the Rings, The (1978)", "Lord of the Rings, The (1978)"),
        ("lord of the rings 2001", "Lord of the Rings: The Fellowship of the Ring, The (2001)"),
        ("Toy Story", "Toy Story (1995)"),  # Toy Story 2 and 3 hold its words, less rated
        ("blade", "Blade (1998)"),  # Blade Runner has only twice its ratings
        ("alien", "Alien (1979)"),
        ("9", "9 (2009)"),  # a number is read as it was: District 9 is no reason to refuse it
    ]:
        assert titles[match_title(query, titles, support, ids=ids)] == title, query
    assert titles[match_title("lord of the rings", titles)] == "Lord of the Rings, The (1978)"  # no support
    code, out, err = run_cli(["similar", "lord of the rings", "--model", "popularity"], capsys)
    assert code == 2 and "movieId 4993" in err and not out, err


def test_exclude_the_or_a_names_two_whole_titles_in_two_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """'--exclude "The"' named one title: the longer prefix left no two of the 20 most-rated fitting in
    most-rated order, since the CLI's wrap at spaces pushed 'Matrix, The (1999)''s '[2571];' to the second
    row. Examples of thousands of titles may go shorter first ('Mask, The (1994) [367]; Matrix, The …'), and
    'a' looks through its 30 most-rated ('About a Boy (2002) [5377]', its 29th)."""
    for query, count in [("The", 2940), ("a", 540)]:
        code, _, err = run_cli(
            ["recommend", "--user", "1", "--exclude", query, "--model", "popularity"], capsys
        )
        line = err.strip()
        assert code == 2 and line.startswith(f"movierec: error: --exclude: {query!r} matches {count} "), err
        shown = _shown(line)
        assert len(shown) == 2 and all("…" not in t for t in shown), line
        assert line.endswith(f"and {count - 2} more; be more specific or give the movieId"), line
        assert len(line) <= 160 and len(_rows(line)) <= 2, "\n".join(_rows(line))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["recommend", "--rated", "Lord of the=5"], "--rated: "),
        (["recommend", "--rated", "The=5"], "--rated: "),
        (["recommend", "--rated", "a"], "--rated: "),
        (["recommend", "--user", "1", "--exclude", "Lord of the"], "--exclude: "),
        (["similar", "--movie", "Lord of the"], "--movie: "),
        (["similar", "--movie", "The"], "--movie: "),
        (["similar", "Lord of the"], ""),  # TITLE is the command's one argument: nothing to name
    ],
)
def test_every_title_option_names_itself_in_two_rows(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--rated's and similar --movie's ambiguity said "'Lord of the' matches 7 movies: …" with no word of
    the option, where --exclude's said "--exclude: 'Lord of the' …" (several --rated values: which one?)."""
    code, _, err = run_cli([*args, "--model", "popularity"], capsys)
    line = err.strip()
    assert code == 2 and err.count("\n") == 1 and line.startswith(f"movierec: error: {said}'"), err
    count = int(re.search(r" matches (\d+) movies: ", line).group(1))  # type: ignore[union-attr]
    assert ("movieId " in line) == (count <= 20), line  # the few to choose from with their movieIds
    assert len(line) <= 160 and len(_rows(line)) <= 2, "\n".join(_rows(line))
    typo = [*args[:-1], re.sub(r"^[^=]+", "Star Warz", args[-1])]  # a misspelling names it too
    code, _, err = run_cli([*typo, "--model", "popularity"], capsys)
    line = err.strip()
    assert code == 2 and line.startswith(f"movierec: error: {said}no movie title matches 'Star Warz'"), err
    assert len(line) <= 160 and len(_rows(line)) <= 2, "\n".join(_rows(line))
