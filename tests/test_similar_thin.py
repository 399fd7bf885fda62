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

    for args in (["--movie-id", "1"], ["--movie-id", "6643", "-m", "ease"]):  # many likes; the model's list
        out = run_process("similar", *args, "-k", "3", "--json", cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "note" not in json.loads(out.stdout) and "only one person" not in out.stderr
