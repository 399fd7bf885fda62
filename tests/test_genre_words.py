"""How a typed genre is read: its sound, not its spelling ('scifi' and 'sci fi' are 'Sci-Fi'), and a word
for a genre that no spelling leads to ('kids', 'romcom') is guessed as the genre it means, in every door
(:func:`movierec.titles.check_genres`, :func:`movierec.titles.genre_refusal`)."""

from __future__ import annotations

import pytest

import movierec
from clihelp import run_cli
from movierec.errors import ConfigError
from movierec.titles import check_genres, genre_refusal, genre_spellings

#: ml-latest-small's 19 genres
KNOWN = sorted(
    ["Drama", "Comedy", "Thriller", "Action", "Romance", "Adventure", "Crime", "Sci-Fi", "Horror", "Fantasy",
     "Children", "Animation", "Mystery", "Documentary", "War", "Musical", "Western", "IMAX", "Film-Noir"]
)  # fmt: skip
SPELLINGS = {g.casefold(): g for g in KNOWN}


@pytest.mark.parametrize(
    "typed, key",
    [("scifi", "sci-fi"), ("sci fi", "sci-fi"), ("Sci_Fi", "sci-fi"), ("SCI-FI", "sci-fi"),
     ("film noir", "film-noir"), ("filmnoir", "film-noir"), (" Comedy ", "comedy")],
)  # fmt: skip
def test_a_genre_typed_without_its_hyphen_or_with_a_space_is_that_genre(typed: str, key: str) -> None:
    """'scifi' was refused with "did you mean 'Sci-Fi'?": case, spaces, hyphens and underscores aside it
    reads as one genre only, so it is that genre, as 'sci-fi' (case aside) always was."""
    assert check_genres(typed, SPELLINGS, "x") == [key]


def test_ml100k_childrens_genre_is_childrens_without_its_apostrophe() -> None:
    spellings = genre_spellings([["Children's", "Comedy"], ["Film-Noir"]])
    assert check_genres(["childrens", "Film Noir"], spellings, "x") == ["children's", "film-noir"]


def test_two_genres_that_read_the_same_are_not_guessed_between() -> None:
    """A catalogue with both 'Sci-Fi' and 'SciFi': 'sci fi' could be either, so it is refused, not picked."""
    spellings = genre_spellings([["Sci-Fi"], ["SciFi"]])
    assert check_genres("scifi", spellings, "x") == ["scifi"]  # typed as the catalogue spells one
    with pytest.raises(ConfigError, match="unknown genre 'sci fi'"):
        check_genres("sci fi", spellings, "x")


@pytest.mark.parametrize(
    "typed, guess",
    [
        ("romcom", "'Romance' or 'Comedy'"),  # was 'Romance' alone
        ("Rom-Com", "'Romance' or 'Comedy'"),
        ("kids", "'Children'"),  # was no genre: "(e.g. Action, Adventure, …)"
        ("family", "'Children'"),  # was 'closest: Fantasy'
        ("cartoon", "'Animation'"),  # was 'Action'
        ("anime", "'Animation'"),  # was 'Crime'
        ("scary", "'Horror'"),  # was 'closest: Mystery, Documentary, War'
        ("science fiction", "'Sci-Fi'"),  # was 'closest: Action, Sci-Fi'
        ("Comdy", "'Comedy'"),  # a misspelling: by spelling, as before
    ],
)
def test_a_word_for_a_genre_is_guessed_as_the_genre_it_means(typed: str, guess: str) -> None:
    assert genre_refusal("--genre", typed, KNOWN, "movierec data info") == (
        f"--genre: unknown genre {typed!r} (did you mean {guess}?); all 19 genres: movierec data info"
    )


def test_a_word_whose_genre_the_catalogue_lacks_falls_back_to_spelling() -> None:
    """'kids' means Children; a catalogue without it gets the spelling rule's answer (here none close)."""
    assert genre_refusal("--genre", "kids", ["Comedy", "Drama"], "w") == (
        "--genre: unknown genre 'kids' (known: Comedy, Drama); all 2 genres: w"
    )
    assert genre_refusal("--genre", "romcom", ["Comedy", "Drama"], "w") == (
        "--genre: unknown genre 'romcom' (did you mean 'Comedy'?); all 2 genres: w"
    )


def test_python_lists_only_the_genre_typed_without_its_hyphen(bundled: movierec.Dataset) -> None:
    rec = movierec.Recommender(bundled, "popularity").fit()
    frame = rec.recommend(1, k=10, genres="sci fi")
    genres = bundled.item_table().set_index("movieId")["genres"]
    assert len(frame) == 10 and all("Sci-Fi" in genres[m] for m in frame["movieId"]), frame
    assert list(frame["movieId"]) == list(rec.recommend(1, k=10, genres="Sci-Fi")["movieId"])


def test_the_cli_guesses_a_genre_word_before_it_trains(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_cli(["recommend", "--user", "1", "--genre", "romcom"], capsys)
    assert code == 2 and err == (
        "movierec: error: --genre: unknown genre 'romcom' (did you mean 'Romance' or 'Comedy'?); "
        "all 19 genres: movierec data info\n"
    ), err


def test_a_lists_caption_names_the_genre_as_the_data_spells_it(capsys: pytest.CaptureFixture[str]) -> None:
    """``--genre scifi`` filtered to Sci-Fi but the caption said "· scifi" (and "· film noir"): the caption
    names what the list holds, as ``data info`` and the movies' genre column spell it."""
    code, out, err = run_cli(
        ["recommend", "--user", "1", "--genre", "scifi", "-m", "popularity", "-k", "3"], capsys
    )
    assert code == 0, err
    caption = " ".join(out.split("┏")[0].split())
    assert caption.endswith("· Sci-Fi"), out
    code, out, err = run_cli(
        ["recommend", "--rated", "Toy Story=5", "--genre", "film noir,SCIFI", "-m", "popularity", "-k", "3"],
        capsys,
    )
    assert code == 0, err
    assert " ".join(out.split("┏")[0].split()).endswith("· Film-Noir or Sci-Fi"), out
