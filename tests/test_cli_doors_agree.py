"""A movie given as text is one movie, or one kind of refusal, through every door: ``Recommender.movie_index``,
an exported artifact's ``movie_id``, and the CLI's ``similar TITLE`` and ``recommend --rated TITLE=STARS``, on
the training data and with ``--artifact``. All six read text by ``titles.movie_from_text`` (the CLI in its own
words); before, the CLI had a third copy of the rules, and on data without titles ``similar 3`` was refused
("this data has no movie titles; give --movie-id 3 instead") where the other doors read movieId 3, '99' was
the no-titles line where Python says the id is unknown, and 'item 3' (the name a list shows) was movie 3 to
``--artifact`` and no title to the rest (serving/test_doors_agree.py holds the two Python doors' test)."""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import movierec
from clihelp import run_process, write_ratings
from movierec.errors import MovierecError

#: titled data: '1' is a whole number in two titles (movieId 1 wins), '300' is movieId 300 and the whole
#: title of another movie (refused naming both), Niagara is in the catalogue with no ratings
_TITLES = {
    1: "Toy Story (1995)",
    2: "Jumanji (1995)",
    300: "Quiz Show (1994)",
    51662: "300 (2007)",
    260: "Star Wars: Episode IV - A New Hope (1977)",
    1196: "Star Wars: Episode V - The Empire Strikes Back (1980)",
    6874: "Kill Bill: Vol. 1 (2003)",
    4011: "Snatch 1 (2000)",
}
_TITLED = ["1", " 1 ", "300", "Toy Story", "toy stroy", "Star Wars", "xyzzy qq", "999999", " 999999 "]
_TITLED += ["Niagara", "2939", "item 1"]


_ratings = write_ratings


def _kind(message: str) -> str:
    """What a refusal says, whichever door's words: the line a person reads next differs by door (a flag in
    the CLI, ``movies=`` in Python), the reason must not."""
    for kind, said in (
        ("no titles", r"this data has no movie titles"),
        ("unrated", r"has no ratings in"),
        ("id and title", r"is both the movieId"),
        ("several titles", r"matches \d+ movies"),
        # a number that is neither a movieId nor a title is an unknown id in every door (similar 999999
        # said "no movie title matches '999999'", where Python said "unknown movie id")
        ("unknown", r"unknown movie id"),
        ("no title matches", r"no movie title matches"),
    ):
        if re.search(said, message):
            return kind
    return f"unclassified: {message}"


def _python(read: Callable[[str], object], text: str) -> str:
    with warnings.catch_warnings(record=True):  # 'toy stroy' read as Toy Story (1995): said, and read
        warnings.simplefilter("always")
        try:
            return f"movie {read(text)}"
        except MovierecError as exc:
            return _kind(str(exc))


def _cli(args: list[str], cwd: Path, heading: dict[str, object]) -> str:
    """The movie a CLI run read (similar's JSON says its movieId; recommend's heading names it: "someone
    who rated Toy Story (1995) 5"), or the kind of its one-line refusal."""
    proc = run_process(*args, "-k", "1", *(["--json"] if args[0] == "similar" else []), cwd=cwd)
    if proc.returncode == 2:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("movierec: error: "), (args, proc.stderr)
        return _kind(lines[0])
    assert proc.returncode == 0, (args, proc.stderr)
    if args[0] == "similar":
        return f"movie {json.loads(proc.stdout)['movieId']}"
    first = proc.stdout.splitlines()[0]
    named = [raw for name, raw in heading.items() if f"rated {name} 5 ·" in first]
    assert len(named) == 1, (args, first)
    return f"movie {named[0]}"


@pytest.mark.parametrize("titled", ["titles", "no titles", "text ids"])
def test_every_door_reads_a_movie_given_as_text_as_one_movie(titled: str, tmp_path: Path) -> None:
    if titled == "titles":
        movies = tmp_path / "movies.csv"
        catalogue = {**_TITLES, 2939: "Niagara (1953)"}  # in the catalogue, rated by nobody
        movies.write_text("movieId,title\n" + "".join(f'{m},"{t}"\n' for m, t in catalogue.items()))
        data = ["--ratings", str(_ratings(tmp_path / "r.csv", list(_TITLES))), "--movies", str(movies)]
        ds, texts = movierec.load(data[1], movies=movies), _TITLED
    elif titled == "no titles":
        data = ["--ratings", str(_ratings(tmp_path / "r.csv", [1, 3, 5, 8, 13, 21, 34, 55]))]
        ds, texts = movierec.load(data[1]), ["3", " 3 ", "99", "item 3", "Toy Story"]
    else:  # IMDb-like text ids and no titles
        data = ["--ratings", str(_ratings(tmp_path / "r.csv", [f"tt010000{n}" for n in range(8)]))]
        ds, texts = movierec.load(data[1]), ["tt0100003", " tt0100003 ", "item tt0100003", "99", "Toy Story"]
    rec = movierec.Recommender(ds, "ease").fit()
    art = rec.export(tmp_path / "art")
    raw = rec.dataset.interactions.item_map.to_raw
    # what the CLI's heading calls each movie: its title, or its movieId where the data has no titles
    heading = {
        (t if ds.has_titles else f"movieId {m}"): m
        for m, t in zip(rec.items["movieId"], rec.items["title"], strict=True)
    }
    doors = {
        "similar": lambda t: ["similar", t, *data],
        "similar --artifact": lambda t: ["similar", t, "--artifact", str(art.path)],
        "--rated": lambda t: ["recommend", "--rated", f"{t}=5", *data],
        "--rated --artifact": lambda t: ["recommend", "--rated", f"{t}=5", "--artifact", str(art.path)],
    }
    read: dict[str, dict[str, str]] = {}
    for text in texts:
        python = _python(lambda t: raw(rec.movie_index(t)), text)
        assert _python(art.movie_id, text) == python, text
        read[text] = {door: _cli(args(text), tmp_path, heading) for door, args in doors.items()}
        assert set(read[text].values()) == {python}, (text, python, read[text])
    expected = {
        "titles": {"1": "movie 1", " 1 ": "movie 1", "300": "id and title", "Toy Story": "movie 1"},
        "no titles": {"3": "movie 3", " 3 ": "movie 3", "99": "unknown", "item 3": "no titles"},
        # ' tt0100003 ' as ' 3 ': the spaces around a text id are no part of it (it was the no-titles line)
        "text ids": {"tt0100003": "movie tt0100003", " tt0100003 ": "movie tt0100003", "99": "unknown"}
        | {"item tt0100003": "no titles"},
    }[titled]
    assert {text: read[text]["similar"] for text in expected} == expected
    if titled == "titles":
        seen = {t: read[t]["similar"] for t in ("toy stroy", "Star Wars", "xyzzy qq", "999999", " 999999 ")}
        assert seen == {
            "toy stroy": "movie 1",
            "Star Wars": "several titles",
            "xyzzy qq": "no title matches",  # text that is no title: "did you mean", not an unknown id
            "999999": "unknown",
            " 999999 ": "unknown",
        }
        assert {read[t]["similar"] for t in ("Niagara", "2939")} == {"unrated"}


def test_a_heading_names_a_movie_of_data_without_titles_by_its_movieid(tmp_path: Path) -> None:
    """IMDb-like ids and no --movies file: ``similar --movie-id tt0100003`` read 'movies like item tt0100003' and
    ``--rated tt0100003=5`` 'someone who rated item tt0100003 5', an id dressed as a title. Both say
    'movieId tt0100003', one rule, as the report's grids show such a movie by its id (1c70c91)."""
    data = ["--ratings", str(_ratings(tmp_path / "r.csv", [f"tt010000{n}" for n in range(8)]))]
    art = movierec.Recommender(movierec.load(data[1]), "ease").fit().export(tmp_path / "art")
    for where in (data, ["--artifact", str(art.path)]):
        for args, heading in (
            (["similar", "--movie-id", "tt0100003"], "movies like movieId tt0100003 · "),
            (["recommend", "--rated", "tt0100003=5"], "top 1 for someone who rated movieId tt0100003 5 · "),
        ):
            proc = run_process(*args, *where, "-k", "1", cwd=tmp_path)
            assert proc.returncode == 0 and proc.stdout.startswith(heading), (args, proc.stdout, proc.stderr)
            assert "item tt" not in proc.stdout
        twice = run_process(
            "recommend", "--rated", "tt0100003=5", "--rated", "tt0100003=4", *where, "-k", "1", cwd=tmp_path
        )
        assert twice.stderr.strip() == (
            "movierec: error: --rated: movieId tt0100003 is given twice ('tt0100003=5' and 'tt0100003=4'); "
            "give each movie once"
        )


def test_notes_json_and_reasons_name_a_movie_of_data_without_titles_by_its_movieid(tmp_path: Path) -> None:
    """The sentences the artifact words for the CLI, the API's ``note`` and the page, and the Recommender's
    warnings, name a movie of data without titles as the headings do: "only 2 people liked movieId
    tt0100003", "every movie lift links to movieId tt0100003 has fewer than 50 …", and a reason of
    ``--explain`` reads 'movieId tt0100001' (all read 'item tt0100003', an id dressed as a title).
    ``similar --json``'s ``movie`` (the title field) is 'movieId tt0100003', as its rows' ``title``, the
    API's and ``recommend --json``'s ``because`` name a movie; it was the bare id, 'tt0100003', which
    ``movieId`` beside it already gives."""
    data = ["--ratings", str(_ratings(tmp_path / "r.csv", [f"tt010000{n}" for n in range(8)]))]
    rec = movierec.Recommender(movierec.load(data[1]), "ease").fit()
    art = rec.export(tmp_path / "art")
    thin = "only 2 people liked movieId tt0100003 in training (ratings ≥ 4): the list is the other movies"
    empty = "every movie lift links to movieId tt0100003 has fewer than 50 training ratings"
    assert (art.similar_thin_note("tt0100003") or "").startswith(thin)  # the API's note, the page's
    assert art.similar_empty_reason("tt0100003", 50).startswith(empty)
    for min_support, said in ((None, thin), (50, empty)):
        with pytest.warns(UserWarning) as caught:
            rec.similar("tt0100003", k=2, min_support=min_support)
        assert any(str(w.message).startswith(said) for w in caught), [str(w.message) for w in caught]
    for where in (data, ["--artifact", str(art.path)]):
        listed = run_process("similar", "--movie-id", "tt0100003", *where, "-k", "2", "--json", cwd=tmp_path)
        out = json.loads(listed.stdout)
        said = (out["movie"], out["movieId"], out["note"][: len(thin)])
        assert said == ("movieId tt0100003", "tt0100003", thin), out
        assert all(r["title"] == f"movieId {r['movieId']}" for r in out["similar"]), out
        shown = run_process("similar", "--movie-id", "tt0100003", *where, "-k", "2", cwd=tmp_path)
        assert f"note: {thin}" in " ".join(shown.stderr.split()), shown.stderr
        none = run_process("similar", "--movie-id", "tt0100003", *where, "-k", "2", "--min-support", "50")
        assert f"note: {empty}" in " ".join(none.stderr.split()), none.stderr
        explained = run_process(
            "recommend", "--rated", "tt0100003=5", "--rated", "tt0100001=4", *where, "-k", "3", "--explain",
            cwd=tmp_path, env={"COLUMNS": "80"},
        )  # fmt: skip
        assert explained.returncode == 0, explained.stderr
        assert "movieId tt0100001 │" in explained.stdout and "movieId tt0100003 │" in explained.stdout
        assert "item tt" not in explained.stdout + shown.stdout + shown.stderr + none.stderr


def test_a_refused_rating_or_repeat_names_a_movie_of_data_without_titles_by_its_movieid(
    tmp_path: Path,
) -> None:
    """The artifact's and the Recommender's refusals of a person's ratings (a movie given twice, a rating off
    the scale: the API's 422, the Python methods') read 'item tt0100003 is given twice' and 'rating 7 for item
    tt0100003 (movieId tt0100003)' on data without titles, where the CLI's --rated says 'movieId tt0100003'.
    They now name it as the CLI does."""
    from movierec.errors import ConfigError

    data = str(_ratings(tmp_path / "r.csv", [f"tt010000{n}" for n in range(8)]))
    rec = movierec.Recommender(movierec.load(data), "ease").fit()
    art = rec.export(tmp_path / "art")
    repeated = art.repeated_movie(["tt0100003", "tt0100001", "tt0100003"])
    assert repeated == (2, "movieId tt0100003 is given twice (ratings 0 and 2); give each movie once")
    with pytest.raises(ConfigError, match=r"^rating 7 for movieId tt0100003 is outside the scale 1\.\.5$"):
        art.visitor([("tt0100003", 7.0)])
    with pytest.raises(ConfigError, match=r"^ratings: movieId tt0100003 is given twice \(as 'tt0100003' and"):
        rec.recommend_for({"tt0100003": 5, " tt0100003 ": 4}, k=2)
