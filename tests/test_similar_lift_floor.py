"""'similar' by lift lists the movies liked together with one movie more often than chance says, ranked as
the list reads them (lift shrunk by co-support) among the movies above the support floor. The lift table
kept each movie's 50 best by lift before the co-support shrinkage and the floor, so Stalker (4 likes on
ml-latest-small) kept 50 neighbours of under 5 likes each and its list was empty, the note saying that every
movie lift links to it has fewer than 5 training ratings; 460 movies above the floor were liked with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import movierec
from clihelp import run_process
from movierec.interactions import Interactions
from movierec.models.itemknn import train_positives

STALKER, AKIRA, TOY_STORY = 1232, 1274, 1


@pytest.fixture(scope="module")
def data():  # type: ignore[no-untyped-def]
    return movierec.load("ml-latest-small")


def lift_by_hand(inter: Interactions, movie: int, k: int, floor: int = 5) -> list[int]:
    """The list counted pair by pair from the ratings ≥ 4: n·c_ij/(c_i·c_j) · c_ij/(c_ij + 5) · c_ij/(c_ij + 20),
    the movies at least ``floor`` people liked, best first (ties by index), as raw movieIds."""
    liked = train_positives(inter, 4.0).toarray() > 0
    i = inter.item_map.index(movie)
    c = liked.sum(axis=0).astype(np.float64)
    both = (liked & liked[:, [i]]).sum(axis=0).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where(both > 0, len(liked) * both / (c[i] * c) * both / (both + 5.0), 0.0)
    score = np.where(both > 0, lift * both / (both + 20.0), -np.inf)
    score[i] = -np.inf
    score[c < floor] = -np.inf
    order = [j for j in np.argsort(-score, kind="stable")[:k] if np.isfinite(score[j])]
    return [int(inter.item_map.to_raw(j)) for j in order]


def test_a_rarely_liked_movie_lists_the_movies_above_the_floor_liked_with_it(tmp_path: Path) -> None:
    """A real 'similar --movie-id 1232' (Stalker): ten movies, each liked by at least 5 people, Akira among
    them, where the old table's list was empty with a note."""
    proc = run_process("similar", "--movie-id", str(STALKER), "-k", "10", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "note" not in out, out["note"]
    rows = out["similar"]
    assert len(rows) == 10 and all(r["ratings"] >= 5 for r in rows), rows
    assert AKIRA in [r["movieId"] for r in rows]


def test_lift_lists_are_the_pairwise_count_for_popular_and_rare_movies(data, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The Python API and an exported artifact (svd, trained on every rating) list by lift exactly what a
    pair-by-pair count gives, for Toy Story (whose list had lost The Lion King, Aladdin, Shrek and Finding
    Nemo to Mary Poppins and Pinocchio) and Stalker (empty before)."""
    inter = data.interactions
    rec = movierec.Recommender(data, "svd", epochs=2).fit()
    art = rec.export(tmp_path / "svd")
    for movie in (TOY_STORY, STALKER):
        want = lift_by_hand(inter, movie, 10)
        assert len(want) == 10
        assert list(rec.similar(movie, k=10)["movieId"]) == want
        assert [r["movieId"] for r in art.similar_rows(movie, k=10)] == want
    lion_king_aladdin_shrek_nemo = {364, 588, 4306, 6377}
    assert lion_king_aladdin_shrek_nemo <= set(lift_by_hand(inter, TOY_STORY, 10))
