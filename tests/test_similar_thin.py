"""A list by lift for a movie that one or two people liked is those people's other likes: ``similar`` says so.

Tokyo Story (movieId 6643) has one rating of 4+ in ml-latest-small; its list by lift (ten art-house films
at 0.54-0.97 "as often as chance", below 1 once shrunk) read as a pattern across people with no word that
it rests on one person (h124's reading of the lists)."""

from __future__ import annotations

import json
from pathlib import Path

from clihelp import run_process

NOTE_1 = (
    "only one person liked Tokyo Story (Tôkyô monogatari) (1953) in training (ratings ≥ 4): the list is the "
    "other movies they liked, not a pattern across many people"
)


def test_a_list_resting_on_one_or_two_people_says_so(tmp_path: Path) -> None:
    one = run_process("similar", "--movie-id", "6643", "-k", "3", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert f"note: {NOTE_1}" in " ".join(one.stderr.split())  # wrapped or not, the same words
    assert "Tokyo Story" in one.stdout and len(one.stdout.splitlines()) > 5  # the list is still shown

    two = run_process("similar", "--movie-id", "13", "-k", "3", "--json", cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    said = json.loads(two.stdout)
    assert said["similar"] and said["note"].startswith("only 2 people liked Balto (1995) in training")

    for args in (["--movie-id", "1"], ["--movie-id", "1", "-m", "ease"]):  # many likes, by lift or the model
        out = run_process("similar", *args, "-k", "3", "--json", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "note" not in json.loads(out.stdout) and "only one person" not in out.stderr


def test_a_model_list_for_a_movie_one_person_rated_says_so(tmp_path: Path) -> None:
    """``similar "Best Men" -m ease`` (one like) listed ten films at similarity 0.0000337, the floor's rare
    films every such movie gets, with no word; by lift it says "only one person liked …". The model's list
    says it in the same words, with what the model learned from (likes for ease, ratings for svd)."""
    ease = run_process("similar", "Best Men", "-m", "ease", "-k", "3", cwd=tmp_path)
    assert ease.returncode == 0, ease.stderr
    assert (
        "note: only one person liked Best Men (1997) in training (ratings ≥ 4): ease learned next to nothing "
        "about it, so the list says little"
    ) in " ".join(ease.stderr.split())
    assert "Best Men" in ease.stdout and "0.0000" in ease.stdout  # the list is still shown
    svd = run_process("similar", "Best Men", "-m", "svd", "-k", "3", "--json", cwd=tmp_path)
    assert svd.returncode == 0, svd.stderr
    said = json.loads(svd.stdout)
    assert said["similar"] and said["note"].startswith(
        "only one person rated Best Men (1997) in training: svd"
    )
    tokyo = run_process("similar", "--movie-id", "6643", "-m", "svd", "-k", "3", "--json", cwd=tmp_path)
    assert tokyo.returncode == 0 and "note" not in json.loads(
        tokyo.stdout
    )  # one like, but svd read all its ratings (3+)
